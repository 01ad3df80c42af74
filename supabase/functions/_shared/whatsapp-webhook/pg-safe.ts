/**
 * Postgres `text` and `jsonb` cannot hold U+0000 (the insert fails). Meta never sends it, but a
 * signed payload is still input: strip it everywhere so a stray NUL costs a character, not a
 * 500 and days of Meta retrying the same webhook.
 */
export function pgSafe<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("\u0000", "") as T;
  if (Array.isArray(value)) return value.map(pgSafe) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[pgSafe(k)] = pgSafe(v);
    return out as T;
  }
  return value;
}
