/**
 * How many SMS segments a text takes, as a handset sees it: GSM-7 when every character is in
 * the GSM 03.38 basic or extension table (extension characters take two septets), else UCS-2
 * (UTF-16 code units). 160/70 fit in one segment; a longer text is split into 153/67-unit
 * parts, never splitting an escape pair or a surrogate pair.
 */
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENSION = new Set("\f^{}\\[~]|€");

export function smsSegments(text: string): number {
  const chars = [...text];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const units = gsm ? chars.map((c) => (GSM_EXTENSION.has(c) ? 2 : 1)) : chars.map((c) => c.length);
  const total = units.reduce((a, b) => a + b, 0);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const u of units) {
    if (used + u > part) {
      segments++;
      used = 0;
    }
    used += u;
  }
  return segments;
}
