/** A UTF-16 surrogate without its pair: not a character, and not storable as one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The one text sanitiser for Postgres. `text` and `jsonb` cannot hold U+0000, and `jsonb` (and
 * any UTF-8 encoding) refuses an unpaired surrogate (`"\ud800"`): either fails the write. Every
 * inbound field goes through this when it is parsed, and every outbound body before anything is
 * sent, so a stray code unit costs a character, never a 500 (providers then retry for days) nor
 * a send whose outcome cannot be recorded. NUL is dropped; a lone surrogate becomes U+FFFD.
 * Objects and arrays are cleaned deeply, keys included; `undefined` members are dropped.
 *
 * What needs nothing cleaned (nearly every body) is handed back as it is, after one pass that
 * reads it and allocates nothing; anything else is a cleaned copy, the original untouched.
 */
export function pgSafe<T>(value: T): T {
  return isPgSafe(value) ? value : cleaned(value);
}

function cleaned<T>(value: T): T {
  if (typeof value === "string") return pgSafeText(value) as T;
  if (Array.isArray(value)) return value.map(cleaned) as T;
  if (value && typeof value === "object" && isPlain(value)) {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined).map((
        [k, v],
      ) => [pgSafeText(k), cleaned(v)]),
    ) as T;
  }
  return value;
}

export function pgSafeText(text: string): string {
  if (isSafeText(text)) return text;
  const noNul = text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
  return noNul.replace(LONE_SURROGATE, "\uFFFD");
}

/** Any surrogate at all: rare outside emoji, and only then is the pairing checked. */
const SURROGATE = /[\uD800-\uDFFF]/;
/** LONE_SURROGATE without the global flag, for `test` (a /g regex keeps state between tests). */
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

function isSafeText(text: string): boolean {
  return !text.includes("\u0000") &&
    !(SURROGATE.test(text) && HAS_LONE_SURROGATE.test(text));
}

/** Whether pgSafe would change nothing: every string and key safe, no `undefined` member. */
function isPgSafe(value: unknown): boolean {
  if (typeof value === "string") return isSafeText(value);
  if (Array.isArray(value)) {
    for (const v of value) if (!isPgSafe(v)) return false;
    return true;
  }
  if (value && typeof value === "object" && isPlain(value)) {
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record)) {
      const v = record[k];
      if (v === undefined || !isSafeText(k) || !isPgSafe(v)) return false;
    }
  }
  return true;
}

/** Plain data only: a Date, a Map or a class instance is passed through untouched. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
