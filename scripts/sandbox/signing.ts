/**
 * Webhook signatures as the providers compute them. Written here from the providers' documents,
 * not imported from the functions' verifiers, so a test that signs with one and verifies with
 * the other checks both.
 */

const enc = new TextEncoder();

async function hmac(hash: "SHA-1" | "SHA-256", secret: string, data: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Meta's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body. */
export async function metaSignature(appSecret: string, body: string): Promise<string> {
  return `sha256=${hex(await hmac("SHA-256", appSecret, body))}`;
}

/**
 * Genesys Open Messaging's `X-Hub-Signature-256`: `sha256=` and the BASE64 HMAC-SHA256 of the
 * raw body with the integration's outbound webhook secret (Meta's is hex).
 */
export async function genesysSignature(webhookSecret: string, body: string): Promise<string> {
  return `sha256=${btoa(String.fromCharCode(...await hmac("SHA-256", webhookSecret, body)))}`;
}

/** The MTN-style gateway's `X-MTN-Signature`: the hex HMAC-SHA256 of the raw body. */
export async function mtnSignature(webhookSecret: string, body: string): Promise<string> {
  return hex(await hmac("SHA-256", webhookSecret, body));
}

/**
 * Twilio's `X-Twilio-Signature`: the URL Twilio requests, then each POST parameter's name and
 * value sorted by name, HMAC-SHA1 with the auth token, base64.
 */
export async function twilioSignature(
  authToken: string,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
): Promise<string> {
  const sorted = [...params].sort(([a, va], [b, vb]) =>
    a < b ? -1 : a > b ? 1 : va < vb ? -1 : va > vb ? 1 : 0
  );
  const data = sorted.reduce((acc, [name, value]) => acc + name + value, url);
  return btoa(String.fromCharCode(...await hmac("SHA-1", authToken, data)));
}

/**
 * Resend's (Svix's) Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256 of
 * `<svix-id>.<svix-timestamp>.<body>` keyed by the base64-decoded part after `whsec_`.
 */
export async function svixHeaders(
  secret: string,
  id: string,
  now: Date,
  body: string,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, enc.encode(`${id}.${timestamp}.${body}`)),
  );
  return {
    "svix-id": id,
    "svix-timestamp": timestamp,
    "svix-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
  };
}
