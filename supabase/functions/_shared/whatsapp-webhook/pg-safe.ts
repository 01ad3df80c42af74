/** A UTF-16 surrogate without its pair: not a character, and not storable as one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Postgres `text` and `jsonb` cannot hold U+0000, and `jsonb` refuses an unpaired surrogate
 * (`"\ud800"`): either fails the insert. Meta never sends them, but a signed payload is still
 * input, so they are dropped or replaced (U+FFFD) everywhere: a stray code unit costs a
 * character, not a 500 and days of Meta retrying the same webhook.
 */
export function pgSafe<T>(value: T): T {
  if (typeof value === "string") {
    return value.replaceAll("\u0000", "").replace(LONE_SURROGATE, "\uFFFD") as T;
  }
  if (Array.isArray(value)) return value.map(pgSafe) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined).map((
        [k, v],
      ) => [pgSafe(k), pgSafe(v)]),
    ) as T;
  }
  return value;
}
