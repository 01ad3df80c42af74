import { toE164 } from "../phone.ts";

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * The sender of an inbound SMS in E.164, or null for what is not a phone number (an
 * alphanumeric network sender such as "MTN", a short code). Gateways write the same number
 * several ways: `+250788123456`, `250788123456` (MTN's MSISDNs), `tel:+250…`, `00250…`, or
 * national `0788123456`. Any E.164-shaped number is accepted as is, not only the ranges the
 * phone-number metadata knows: an opt-out from a freshly allocated range must still count.
 */
export function phoneNumberOf(raw: string, defaultCountry: string): string | null {
  const s = raw.trim().replace(/^tel:/i, "").replace(/[\s().-]/g, "");
  if (E164.test(s)) return s;
  if (/^00[1-9]\d{6,14}$/.test(s)) return `+${s.slice(2)}`;
  if (/^0\d{5,14}$/.test(s)) return toE164(s, defaultCountry);
  if (/^[1-9]\d{7,14}$/.test(s)) return `+${s}`;
  return null;
}
