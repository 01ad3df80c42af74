/** HMAC signatures checked on the raw bytes, compared in constant time. */

const enc = new TextEncoder();

/**
 * Imported keys, per isolate: importing costs about as much as the signature itself, and an
 * isolate only ever sees its few configured secrets. A failed import is not kept.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(hash: "SHA-1" | "SHA-256", secret: string): Promise<CryptoKey> {
  const id = `${hash}:${secret}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= 64) keys.clear(); // a bound, should secrets ever come from somewhere else
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash }, false, [
      "sign",
    ]);
    key.catch(() => keys.delete(id));
    keys.set(id, key);
  }
  return key;
}

async function hmac(
  hash: "SHA-1" | "SHA-256",
  secret: string,
  data: Uint8Array,
): Promise<Uint8Array> {
  const key = await hmacKey(hash, secret);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource));
}

/** Constant-time comparison: time depends only on the lengths, never on where bytes differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i % (a.length || 1)] ?? 0) ^ (b[i % (b.length || 1)] ?? 0);
  return diff === 0;
}

export function timingSafeEqualString(a: string, b: string): boolean {
  return timingSafeEqual(enc.encode(a), enc.encode(b));
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const toBase64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

export async function hmacSha256Hex(secret: string, data: Uint8Array): Promise<string> {
  return toHex(await hmac("SHA-256", secret, data));
}

export async function hmacSha256Base64(secret: string, data: Uint8Array): Promise<string> {
  return toBase64(await hmac("SHA-256", secret, data));
}

export async function hmacSha1Base64(secret: string, data: Uint8Array): Promise<string> {
  return toBase64(await hmac("SHA-1", secret, data));
}

/**
 * Verifies `sha256=<hex>` (Meta X-Hub-Signature-256; the prefix optional when `prefixOptional`).
 * Fails closed: no secret or no header is false.
 */
export async function verifyHexSha256(
  secret: string | undefined,
  header: string | null,
  raw: Uint8Array,
  opts: { prefixOptional?: boolean } = {},
): Promise<boolean> {
  if (!secret || !header) return false;
  let given = header.trim();
  if (given.startsWith("sha256=")) given = given.slice(7);
  else if (!opts.prefixOptional) return false;
  const expected = await hmacSha256Hex(secret, raw);
  return timingSafeEqualString(expected, given.toLowerCase());
}

/** Verifies a base64 HMAC-SHA256 (Genesys X-Hub-Signature-256 is `sha256=<base64>`). */
export async function verifyBase64Sha256(
  secret: string | undefined,
  header: string | null,
  raw: Uint8Array,
): Promise<boolean> {
  if (!secret || !header) return false;
  const given = header.trim().replace(/^sha256=/, "");
  return timingSafeEqualString(await hmacSha256Base64(secret, raw), given);
}
