/** Meta's unix-seconds timestamp as ISO 8601, or undefined when it is not a plausible time. */
export function isoFromUnixSeconds(value: string | number | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  // Up to the year 5138: anything beyond is not a time, and Date would throw past 8.64e15 ms.
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 1e11) return undefined;
  return new Date(seconds * 1000).toISOString();
}
