import type { SandboxCredentials } from "./provider.ts";
import { metaSignature, mtnSignature, svixHeaders, twilioSignature } from "./signing.ts";

/** A webhook a provider sends to the stack's functions: an inbound message or a status callback. */
export interface Webhook {
  provider: "whatsapp" | "mtn" | "twilio" | "meta" | "resend";
  /** Under the functions URL: "/wa-webhook", "/sms-inbound", "/sms-inbound/status". */
  path: string;
  /** The raw body: JSON for WhatsApp and MTN, a form for Twilio. */
  body: string;
  /** Twilio only: the form's parameters in the order posted (its signature sorts them). */
  form?: [string, string][];
  /** The provider's id of the message it is about. */
  providerMessageId: string;
  /** Resend only: the Standard Webhooks message id (svix-id) of this delivery. */
  webhookId?: string;
}

export interface WebhookTarget {
  /** Where the functions are reached from here, e.g. `http://127.0.0.1:54321/functions/v1`. */
  functionsUrl: string;
  /**
   * The URL the provider was configured with, which Twilio signs (PUBLIC_FUNCTIONS_URL); the
   * same as `functionsUrl` unless a tunnel is in front.
   */
  publicFunctionsUrl: string;
  credentials: SandboxCredentials;
}

export interface Delivery {
  status: number;
  contentType: string;
  text: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/** The headers a provider sends with this webhook, its signature included. */
export async function webhookHeaders(
  webhook: Webhook,
  target: WebhookTarget,
): Promise<Record<string, string>> {
  const c = target.credentials;
  switch (webhook.provider) {
    case "whatsapp":
      return {
        "content-type": "application/json",
        "user-agent": "facebookexternalua",
        "x-hub-signature-256": await metaSignature(c.whatsappAppSecret, webhook.body),
      };
    case "meta":
      return {
        "content-type": "application/json",
        "user-agent": "facebookexternalua",
        "x-hub-signature-256": await metaSignature(c.metaAppSecret, webhook.body),
      };
    case "mtn":
      return {
        "content-type": "application/json",
        "x-mtn-signature": await mtnSignature(c.mtnWebhookSecret, webhook.body),
      };
    case "resend":
      return {
        "content-type": "application/json",
        "user-agent": "Svix-Webhooks/1.0",
        ...(await svixHeaders(
          c.resendWebhookSecret,
          webhook.webhookId ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`,
          new Date(),
          webhook.body,
        )),
      };
    case "twilio":
      return {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "TwilioProxy/1.1",
        "x-twilio-signature": await twilioSignature(
          c.twilioAuthToken,
          trimSlash(target.publicFunctionsUrl) + webhook.path,
          webhook.form ?? [],
        ),
      };
  }
}

/** Signs and posts a webhook as its provider would; the answer is read whole. */
export async function deliverWebhook(
  webhook: Webhook,
  target: WebhookTarget,
  signal?: AbortSignal,
): Promise<Delivery> {
  const res = await fetch(trimSlash(target.functionsUrl) + webhook.path, {
    method: "POST",
    headers: await webhookHeaders(webhook, target),
    body: webhook.body,
    signal,
  });
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    text: await res.text(),
  };
}
