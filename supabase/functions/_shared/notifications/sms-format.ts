import { countSegments, isGsm7, LIMITS, type SmsEncoding } from "./sms-segments.ts";
import { longestPrefix } from "./truncate.ts";

/** SMS text: plain, GSM-7 when it can be, and never more segments than allowed. */

export interface FormattedSms {
  text: string;
  segments: number;
  encoding: SmsEncoding;
  truncated: boolean;
}

export interface SmsFormatOptions {
  /** Default 3. */
  maxSegments?: number;
  /** Always kept whole at the end (e.g. how to reply); sent as given. */
  suffix?: string;
}

/**
 * Typographic characters with a GSM-7 twin. They are replaced only when that makes the whole
 * message GSM-7: one emoji already forces UCS-2, and then the real characters cost nothing more.
 */
const GSM_TWINS: Array<[RegExp, string]> = [
  [/[‘’‚‛′´`]/g, "'"],
  [/[“”„‟″«»]/g, '"'],
  [/[‐‑‒–—―−]/g, "-"],
  [/…/g, "..."],
  [/[•·]/g, "-"],
];

/** Paired WhatsApp/Markdown emphasis around non-space text, not inside words (snake_case). */
const EMPHASIS = /(?<![\p{L}\p{N}\\])(\*{1,2}|_{1,2}|~{1,2})(?=\S)([^\n]*?\S)\1(?![\p{L}\p{N}])/gu;
const BULLET = /^[ \t]*(?:[•◦▪▫‣●○■□►▶·*+-])[ \t]+/gmu;
const QUOTE = /^[ \t]*>[ \t]?/gm;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f\u200b\u2060\ufeff]/g;

/** Plain text as the SMS will carry it, before any truncation. */
export function toSmsText(text: string): string {
  let plain = text.normalize("NFC").replace(/\r\n?/g, "\n")
    .replace(/```([\s\S]*?)```/g, "$1")
    .replace(/`([^`\n]+)`/g, "$1")
    .replace(QUOTE, "")
    .replace(BULLET, "- ");
  // Nested emphasis (*_both_*) needs a second pass; bounded, since each pass only removes.
  for (let pass = 0; pass < 3; pass++) {
    const next = plain.replace(EMPHASIS, "$2");
    if (next === plain) break;
    plain = next;
  }
  plain = plain.replace(CONTROL, " ")
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
  return preferGsm(plain);
}

function preferGsm(text: string): string {
  if (isGsm7(text)) return text;
  const twin = GSM_TWINS.reduce((t, [from, to]) => t.replace(from, to), text);
  return isGsm7(twin) ? twin : text;
}

const ellipsisFor = (text: string) => (isGsm7(text) ? "..." : "…");

/**
 * Formats `text` as an SMS of at most `maxSegments` segments: plain text (see toSmsText), then,
 * if too long, cut at a word boundary with an ellipsis ("..." in GSM-7, "…" in UCS-2) before
 * the suffix. A suffix that cannot fit even alone is a programming error and throws.
 */
export function formatSms(text: string, options: SmsFormatOptions = {}): FormattedSms {
  const maxSegments = options.maxSegments ?? 3;
  const suffix = options.suffix ?? "";
  if (!Number.isInteger(maxSegments) || maxSegments < 1) {
    throw new RangeError("maxSegments must be a positive integer");
  }
  const body = toSmsText(text);
  const whole = countSegments(body + suffix);
  if (whole.segments <= maxSegments) {
    return {
      text: body + suffix,
      segments: whole.segments,
      encoding: whole.encoding,
      truncated: false,
    };
  }

  const compose = (prefix: string) => prefix + ellipsisFor(prefix + suffix) + suffix;
  const fits = (prefix: string) => countSegments(compose(prefix)).segments <= maxSegments;
  if (!fits("")) throw new RangeError("The SMS suffix does not fit in maxSegments");
  // Every unit is at least one UTF-16 unit, so no longer prefix can fit.
  const bound = Math.max(LIMITS["GSM-7"].single, LIMITS["GSM-7"].part * maxSegments);
  const result = compose(longestPrefix(body, fits, bound));
  const counted = countSegments(result);
  return { text: result, segments: counted.segments, encoding: counted.encoding, truncated: true };
}
