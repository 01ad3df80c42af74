import { hmacSha1Base64, timingSafeEqualString } from "../http/signature.ts";

/**
 * Twilio's `X-Twilio-Signature`, computed as Twilio's own SDKs do (twilio-node
 * `getExpectedTwilioSignature`, twilio-python `RequestValidator.compute_signature`): the full URL
 * Twilio requested (with its query string), then every POST parameter's name and value,
 * sorted by name (case-sensitive, as Twilio documents; a repeated name contributes each of its values, sorted), all
 * concatenated; HMAC-SHA1 with the auth token; base64.
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
): Promise<string> {
  const byName = new Map<string, string[]>();
  for (const [name, value] of params) {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  }
  let data = url;
  for (const name of [...byName.keys()].sort(caseSensitive)) {
    for (const value of byName.get(name)!.sort(caseSensitive)) data += name + value;
  }
  return hmacSha1Base64(authToken, new TextEncoder().encode(data));
}

/**
 * Checks the header against the URL with and without its port (Twilio signs whichever form the
 * webhook was configured with, and the SDKs accept both: `https://x.com/a` and
 * `https://x.com:443/a`). Constant-time; fails closed without a token or a header.
 */
export async function verifyTwilioSignature(
  authToken: string | undefined,
  header: string | null,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
): Promise<boolean> {
  if (!authToken || !header) return false;
  const given = header.trim();
  let valid = false;
  for (const candidate of urlVariants(url)) {
    // Every variant is computed and compared, so the time taken says nothing about which matched.
    if (timingSafeEqualString(await twilioSignature(authToken, candidate, params), given)) {
      valid = true;
    }
  }
  return valid;
}

/** The URL without a port, and with the scheme's default port when it had none. */
export function urlVariants(url: string): string[] {
  const m = url.match(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i);
  if (!m) return [url];
  const [, scheme, authority, rest] = m;
  const port = authority.match(/:(\d*)$/);
  const host = port ? authority.slice(0, -port[0].length) : authority;
  const withoutPort = scheme + host + rest;
  if (port) return [withoutPort, url];
  const defaultPort = scheme.toLowerCase() === "https://" ? 443 : 80;
  return [url, `${scheme}${host}:${defaultPort}${rest}`];
}

const caseSensitive = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
