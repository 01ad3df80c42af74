/** Masking for logs: phone numbers, emails and message bodies never reach a log line whole. */
import { getCountries, getCountryCallingCode } from "libphonenumber-js";

// Every country calling code (1 to 3 digits; E.164 codes are prefix-free, so one matches).
const CALLING_CODES = new Set(getCountries().map((c) => getCountryCallingCode(c)));

/**
 * `+250788123456` → `+250****3456`: the country code and at most the last 4 digits stay, and
 * never more than half of the rest, so a short number (`+50012345` → `+500****45`) is not shown
 * whole. Without a leading `+` no country code is shown.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  const international = /^\s*(tel:)?\+/i.test(phone);
  const cc = international
    ? [1, 2, 3].map((n) => digits.slice(0, n)).find((p) => CALLING_CODES.has(p))
    : undefined;
  const rest = digits.slice(cc?.length ?? 0);
  const tail = rest.slice(rest.length - Math.min(4, Math.floor(rest.length / 2)));
  return `${cc ? `+${cc}` : ""}****${tail}`;
}

/** `alice@example.com` → `a****@example.com` */
export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  if (at < 1) return "****";
  return `${email[0]}****${email.slice(at)}`;
}

/** Message bodies: only the length survives. */
export function maskBody(body: string): string {
  return `<${[...body].length} chars>`;
}

const PHONE_KEYS = /(^|_)(phone|phone_number|from|to|msisdn|wa_id|recipient|whatsapp_jid)$/i;
const EMAIL_KEYS = /(^|_)email$/i;
const BODY_KEYS = /(^|_)(body|text|message|summary|content|caption)$/i;
// A phone-like run of digits standing on its own (not part of an id such as a uuid or "call-123…").
const PHONE_IN_TEXT = /(?<![\w-])\+?\d[\d\s-]{7,}\d(?![\w-])/g;
const ID_KEYS = /(^|_)(id|ids)$/i;

/** Masks a log payload by key name, and any phone-like run of digits inside other strings. */
export function maskFields(value: unknown, key = ""): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") {
    if (PHONE_KEYS.test(key)) return maskPhone(value);
    if (EMAIL_KEYS.test(key)) return maskEmail(value);
    if (BODY_KEYS.test(key)) return maskBody(value);
    if (key === "stack" || ID_KEYS.test(key)) return value;
    return value.replace(PHONE_IN_TEXT, (m) => maskPhone(m.replace(/[\s-]/g, "")));
  }
  if (Array.isArray(value)) return value.map((v) => maskFields(v, key));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = maskFields(v, k);
    }
    return out;
  }
  return value;
}
