import { Webhook, WebhookVerificationError } from "standardwebhooks";

/** Why a webhook was refused: nothing it says is acted on. */
export type Refusal = "missing_headers" | "stale" | "bad_signature";

export type Verification =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: Refusal };

/**
 * Resend signs its webhooks as Svix does, which is the Standard Webhooks scheme under `svix-*`
 * header names: `svix-signature` holds space-separated `v1,<base64 HMAC-SHA256>` of
 * `<svix-id>.<svix-timestamp>.<raw body>` keyed by the base64 after `whsec_`. The maintained
 * `standardwebhooks` verifier checks it in constant time and refuses a timestamp more than
 * 5 minutes off; either header family (`svix-*` or `webhook-*`) is accepted. Replays within
 * those 5 minutes are the caller's to refuse, by the id (claim_webhook_event).
 *
 * Throws at construction for a secret that is not `whsec_` + base64 (a configuration error).
 */
export function createResendVerifier(secret: string) {
  const webhook = new Webhook(secret);
  return (raw: string, headers: Headers): Verification => {
    const id = headers.get("svix-id") ?? headers.get("webhook-id");
    const timestamp = headers.get("svix-timestamp") ?? headers.get("webhook-timestamp");
    const signature = headers.get("svix-signature") ?? headers.get("webhook-signature");
    if (!id || !timestamp || !signature) return { ok: false, reason: "missing_headers" };
    try {
      webhook.verify(raw, {
        "webhook-id": id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
      }, { jsonParse: false });
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      return { ok: false, reason: /timestamp/i.test(err.message) ? "stale" : "bad_signature" };
    }
    return { ok: true, id, timestamp: Number(timestamp) };
  };
}

export type ResendVerifier = ReturnType<typeof createResendVerifier>;

/** The header Resend's retries and our sandbox sign with, for tests and the sandbox. */
export function signResendWebhook(
  secret: string,
  id: string,
  at: Date,
  raw: string,
): Record<string, string> {
  return {
    "svix-id": id,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(id, at, raw),
  };
}
