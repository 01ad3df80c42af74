import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";

/**
 * The one phone-number module: every way a number arrives (a caller's input, an SMS gateway's
 * sender, Meta's `wa_id`, an adapter's recipient) becomes E.164 (`+250788123456`) here. They
 * differ in how much they trust the input, and each says why.
 */

const E164_DIGITS = /^[1-9]\d{6,14}$/;

/** E.164 for a valid number, else null. National numbers use the default country. */
export function toE164(input: string, defaultCountry: string): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry as CountryCode);
  return parsed && parsed.isValid() ? parsed.number : null;
}

/**
 * E.164's shape only (a leading non-zero, 7 to 15 digits), with or without the `+`, no
 * numbering-plan check: Meta's `wa_id` and `from` (validity is Meta's word: the person is on
 * WhatsApp) and the recipients adapters send to (already E.164 in the database).
 */
export function e164Shaped(input: string): string | null {
  const digits = input.trim().replace(/^\+/, "");
  return E164_DIGITS.test(digits) ? `+${digits}` : null;
}

/** The digits of an E.164-shaped number, as provider APIs want them; undefined when it is not one. */
export function e164Digits(to: string): string | undefined {
  return e164Shaped(to)?.slice(1);
}

/**
 * The sender of an inbound SMS in E.164, or null for what is not a phone number (an
 * alphanumeric network sender such as "MTN", a short code). Gateways write the same number
 * several ways: `+250788123456`, `250788123456` (MTN's MSISDNs), `tel:+250…`, `00250…`, or
 * national `0788123456`. Any E.164-shaped number is accepted as is, not only the ranges the
 * phone-number metadata knows: an opt-out from a freshly allocated range must still count.
 */
export function smsSenderToE164(raw: string, defaultCountry: string): string | null {
  const s = raw.trim().replace(/^tel:/i, "").replace(/[\s().-]/g, "");
  if (/^\+[1-9]\d{6,14}$/.test(s)) return s;
  if (/^00[1-9]\d{6,14}$/.test(s)) return `+${s.slice(2)}`;
  if (/^0\d{5,14}$/.test(s)) return toE164(s, defaultCountry);
  if (/^[1-9]\d{7,14}$/.test(s)) return `+${s}`;
  return null;
}
