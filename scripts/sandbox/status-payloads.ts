import { metaWebhook, unixSeconds, whatsappWebhook } from "./inbound-payloads.ts";
import { parseJson, randomHex } from "./http.ts";
import type { SandboxMessage } from "./messages.ts";
import type { SandboxCredentials } from "./provider.ts";
import type { Webhook } from "./webhook.ts";

/**
 * The delivery callbacks each provider sends about a message it accepted, built as the provider
 * builds them, from the message the sandbox recorded.
 */

export type WhatsAppStatus = "sent" | "delivered" | "read";
export type TwilioStatus = "sent" | "delivered";

/** A WhatsApp Cloud API `messages` webhook carrying one `statuses[]` entry, as Meta sends it. */
export function whatsappStatus(
  message: SandboxMessage,
  status: WhatsAppStatus,
  now: Date,
  c: SandboxCredentials,
): Webhook {
  const expiry = new Date(now.getTime() + 24 * 3600 * 1000);
  const category = message.template ? "utility" : "service";
  // Meta echoes what the send carried as biz_opaque_callback_data in every status of it.
  const sent = parseJson(message.request_body) as
    | { biz_opaque_callback_data?: unknown }
    | undefined;
  const echo = typeof sent?.biz_opaque_callback_data === "string"
    ? { biz_opaque_callback_data: sent.biz_opaque_callback_data }
    : {};
  return whatsappWebhook(
    {
      statuses: [{
        id: message.id,
        status,
        timestamp: unixSeconds(now),
        recipient_id: message.to,
        ...echo,
        // Meta drops the conversation's expiry after the first status of a conversation.
        conversation: {
          id: randomHex(16),
          ...(status === "sent" ? { expiration_timestamp: unixSeconds(expiry) } : {}),
          origin: { type: category },
        },
        pricing: { billable: true, pricing_model: "PMP", category, type: "regular" },
      }],
    },
    c,
    message.id,
  );
}

/**
 * The MTN-style gateway's delivery receipt (SMS v3, GSMA OneAPI status words), sent when the
 * send asked for one (`requestDeliveryReceipt`).
 */
export function mtnReceipt(message: SandboxMessage, now: Date): Webhook {
  const sent = parseJson(message.request_body) as { clientCorrelatorId?: string } | undefined;
  const payload = {
    requestId: message.id,
    clientCorrelatorId: sent?.clientCorrelatorId ?? null,
    senderAddress: message.from,
    receiverAddress: message.to.replace(/^\+/, ""),
    deliveryStatus: "DeliveredToTerminal",
    timestamp: now.toISOString(),
  };
  return {
    provider: "mtn",
    path: "/sms-inbound/status",
    body: JSON.stringify(payload),
    providerMessageId: message.id,
  };
}

/** Whether the send asked the MTN-style gateway for a delivery receipt. */
export function wantsMtnReceipt(message: SandboxMessage): boolean {
  const sent = parseJson(message.request_body) as { requestDeliveryReceipt?: unknown } | undefined;
  return sent?.requestDeliveryReceipt === true;
}

/** Twilio's status callback: the form it posts to the message's StatusCallback URL. */
export function twilioStatus(
  message: SandboxMessage,
  status: TwilioStatus,
  path: string,
  c: SandboxCredentials,
): Webhook {
  const form: [string, string][] = [
    ["SmsSid", message.id],
    ["SmsStatus", status],
    ["MessageStatus", status],
    ["To", message.to],
    ["MessageSid", message.id],
    ["AccountSid", c.twilioAccountSid],
    ["From", message.from],
    ["ApiVersion", "2010-04-01"],
  ];
  return {
    provider: "twilio",
    path,
    body: new URLSearchParams(form).toString(),
    form,
    providerMessageId: message.id,
  };
}

/**
 * Where Twilio posts the status of this message, under the functions URL: the StatusCallback it
 * was sent with when that points at this stack's functions, otherwise `/sms-inbound/status` (as
 * a messaging service configured with it would). Null for a callback URL elsewhere.
 */
export function twilioCallbackPath(
  message: SandboxMessage,
  publicFunctionsUrl: string,
): string | null {
  const callback = new URLSearchParams(message.request_body).get("StatusCallback");
  if (!callback) return "/sms-inbound/status";
  const base = publicFunctionsUrl.replace(/\/+$/, "");
  return callback.startsWith(`${base}/`) ? callback.slice(base.length) : null;
}

/**
 * Messenger's `message_deliveries` / `message_reads` (a watermark: everything sent before it),
 * or Instagram's `messaging_seen` (the message seen), about a message the sandbox accepted.
 */
export function metaReceipt(
  message: SandboxMessage,
  status: "delivered" | "read",
  now: Date,
): Webhook {
  const channel = message.channel === "instagram" ? "instagram" : "messenger";
  const watermark = now.getTime();
  const receipt = status === "delivered"
    ? { delivery: { mids: [message.id], watermark } }
    : channel === "instagram"
    ? { read: { mid: message.id } }
    : { read: { watermark } };
  return metaWebhook(
    channel,
    { sender: { id: message.to }, timestamp: watermark, ...receipt },
    message.id,
  );
}
