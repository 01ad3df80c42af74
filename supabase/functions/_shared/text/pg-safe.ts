/** A UTF-16 surrogate without its pair: not a character, and not storable as one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The one text sanitiser for Postgres. `text` and `jsonb` cannot hold U+0000, and `jsonb` (and
 * any UTF-8 encoding) refuses an unpaired surrogate (`"\ud800"`): either fails the write. Every
 * inbound field goes through this when it is parsed, and every outbound body before anything is
 * sent, so a stray code unit costs a character, never a 500 (providers then retry for days) nor
 * a send whose outcome cannot be recorded. NUL is dropped; a lone surrogate becomes U+FFFD.
 * Objects and arrays are cleaned deeply, keys included; `undefined` members are dropped.
 */
export function pgSafe<T>(value: T): T {
  if (typeof value === "string") return pgSafeText(value) as T;
  if (Array.isArray(value)) return value.map(pgSafe) as T;
  if (value && typeof value === "object" && isPlain(value)) {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined).map((
        [k, v],
      ) => [pgSafeText(k), pgSafe(v)]),
    ) as T;
  }
  return value;
}

export function pgSafeText(text: string): string {
  const noNul = text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
  return noNul.replace(LONE_SURROGATE, "\uFFFD");
}

/** Plain data only: a Date, a Map or a class instance is passed through untouched. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
