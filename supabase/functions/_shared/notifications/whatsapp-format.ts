import { sanitizeTemplateText } from "../channels/whatsapp.ts";
import { longestPrefix } from "./truncate.ts";

/** WhatsApp rich text for a call summary, and summaries made safe as template parameters. */

/** Cloud API limit for a text message body. Counted in UTF-16 units, which never undercounts. */
export const WHATSAPP_TEXT_LIMIT = 4096;
/** What this project allows one template body parameter. */
export const TEMPLATE_PARAMETER_LIMIT = 1024;

export interface WhatsAppSummaryInput {
  summary: string;
  name?: string;
  callId?: string;
  endedAt?: Date | string;
}

const HEADING = "📞 *Call summary*";
const CLOSING = "💬 Reply here if you have any questions or need anything else.";

const sentences = new Intl.Segmenter("en", { granularity: "sentence" });
const BULLET = /^(?:[•◦▪▫‣●○■□►▶·*+-])\s+/u;
const NUMBERED = /^\d{1,2}[.)]\s/;
/** Intl's sentence breaks do not know abbreviations; these end a fragment, not a sentence. */
const ABBREVIATION = /(?:^|\s)(?:Dr|Mr|Mrs|Ms|Prof|St|Jr|Sr|No|approx|e\.g|i\.e|vs)\.$/i;
const dateFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/**
 * 📞 *Call summary*, a greeting, the summary (as "• " bullets when it has several lines or
 * sentences), and a closing line inviting a reply on this chat; at most 4096 characters, the
 * summary cut at a word with "…" when needed.
 */
export function formatWhatsAppSummary(input: WhatsAppSummaryInput): string {
  const name = input.name ? plainName(input.name) : "";
  const greeting = name
    ? `Hi ${name}, thanks for your call. Here is what we covered:`
    : "Thanks for your call. Here is what we covered:";
  const when = input.endedAt ? callTime(input.endedAt) : undefined;
  const head = [when ? `${HEADING} · ${when}` : HEADING, greeting].join("\n");
  const tail = [CLOSING, input.callId ? `Ref: ${input.callId}` : undefined]
    .filter((line) => line !== undefined)
    .join("\n");

  let body = summaryBlock(input.summary);
  const budget = WHATSAPP_TEXT_LIMIT - head.length - tail.length - 4; // two blank-line joints
  if (body.length > budget) body = `${longestPrefix(body, (p) => p.length + 1 <= budget, budget)}…`;
  return `${head}\n\n${body}\n\n${tail}`;
}

/** The summary's points: its lines when it has several, otherwise its sentences. */
export function summaryPoints(summary: string): string[] {
  const lines = markdownToWhatsApp(summary.normalize("NFC").replace(/\r\n?/g, "\n"))
    .split("\n")
    .map((line) => line.trim().replace(BULLET, "").trim())
    .filter((line) => line !== "");
  if (lines.length !== 1) return lines;
  const points: string[] = [];
  for (const { segment } of sentences.segment(lines[0])) {
    const sentence = segment.trim();
    if (!sentence) continue;
    const last = points.length - 1;
    if (last >= 0 && ABBREVIATION.test(points[last])) points[last] += ` ${sentence}`;
    else points.push(sentence);
  }
  return points;
}

function summaryBlock(summary: string): string {
  const points = summaryPoints(summary);
  if (points.length <= 1) return points[0] ?? "";
  return points
    .map((p) => (NUMBERED.test(p) ? p : p.endsWith(":") ? `*${p}*` : `• ${p}`))
    .join("\n");
}

/** LLM summaries often come in Markdown; WhatsApp's markers are single. */
export function markdownToWhatsApp(text: string): string {
  return text
    .replace(/\*\*(?=\S)([^\n]*?\S)\*\*/g, "*$1*")
    .replace(/__(?=\S)([^\n]*?\S)__/g, "_$1_")
    .replace(/~~(?=\S)([^\n]*?\S)~~/g, "~$1~")
    .replace(/^#{1,6}\s+(.+)$/gm, "*$1*");
}

/** A name shown inside formatted text: one line, no markup characters, bounded. */
function plainName(name: string): string {
  return name.replace(/[*_~`\s]+/g, " ").trim().slice(0, 60).trim();
}

function callTime(endedAt: Date | string): string | undefined {
  const date = endedAt instanceof Date ? endedAt : new Date(endedAt);
  return Number.isNaN(date.getTime()) ? undefined : `${dateFormat.format(date)} UTC`;
}

/**
 * Text made safe as a template body parameter: one line (Meta rejects newlines, tabs and more
 * than four spaces in a row), lines joined as sentences, at most 1024 characters cut at a word.
 * Callers pass non-empty text: Meta rejects an empty parameter.
 */
export function templateParameter(text: string): string {
  const lines = text.normalize("NFC")
    .split(/\r\n?|\n/)
    .map((line) => line.trim().replace(BULLET, "").trim())
    .filter((line) => line !== "");
  const asSentences = lines.length > 1
    ? lines.map((line) => (/[.!?:;…]$/.test(line) ? line : `${line}.`))
    : lines;
  const oneLine = sanitizeTemplateText(asSentences.join(" "));
  if (oneLine.length <= TEMPLATE_PARAMETER_LIMIT) return oneLine;
  const limit = TEMPLATE_PARAMETER_LIMIT - 1;
  return `${longestPrefix(oneLine, (p) => p.length <= limit, limit)}…`;
}
