/**
 * Meta's `wa_id` and `from` are the person's international number as digits, without the `+`:
 * E.164 is `+` and those digits. Validity is Meta's word (the person is on WhatsApp), so no
 * numbering-plan check here; only the E.164 shape (a leading non-zero, at most 15 digits).
 */
export function waIdToE164(waId: string): string | null {
  const digits = waId.trim().replace(/^\+/, "");
  return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : null;
}
