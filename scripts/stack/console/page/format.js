// Times as the page shows them.

export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "");
export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString([], { hour12: false }) : "");

export function relative(iso) {
  if (!iso) return "";
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const abs = Math.abs(s);
  const span = abs < 60
    ? `${abs} s`
    : abs < 3600
    ? `${Math.round(abs / 60)} min`
    : abs < 172800
    ? `${Math.round(abs / 3600)} h`
    : `${Math.round(abs / 86400)} d`;
  return s >= 0 ? `in ${span}` : `${span} ago`;
}
