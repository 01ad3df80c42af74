import { createHmac } from "node:crypto";

/** Signing as the providers do, with node:crypto: independent of the code under test. */

export const MTN_SECRET = "mtn-webhook-secret-for-tests";
export const TWILIO_TOKEN = "twilio-auth-token-for-tests";

export function mtnSignature(raw: string | Uint8Array, secret = MTN_SECRET): string {
  return createHmac("sha256", secret).update(raw).digest("hex");
}

/** Twilio's algorithm: URL + each parameter name and value, sorted by name; HMAC-SHA1; base64. */
export function twilioSignature(
  url: string,
  params: Array<[string, string]>,
  token = TWILIO_TOKEN,
): string {
  const data = [...params]
    .sort(([a, va], [b, vb]) => (a === b ? (va < vb ? -1 : 1) : a < b ? -1 : 1))
    .reduce((acc, [k, v]) => acc + k + v, url);
  return createHmac("sha1", token).update(Buffer.from(data, "utf-8")).digest("base64");
}
