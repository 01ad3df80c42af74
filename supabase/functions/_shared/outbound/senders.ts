import type { Env } from "../config.ts";
import type { AdapterOptions, SendResult } from "./adapter.ts";
import { createWhatsAppAdapter, type WhatsAppAdapter } from "../channels/whatsapp.ts";
import { createMtnSmsAdapter } from "../channels/sms-mtn.ts";
import { createTwilioSmsAdapter, twilioStatusCallbackUrl } from "../channels/sms-twilio.ts";
import type { SmsAdapter } from "./adapter.ts";
import type { SenderRef } from "./pacing.ts";

/** What dispatch needs of a queued row to send it again. */
export interface OutboxRow {
  id: string;
  channel: string;
  recipient: string | null;
  body: string | null;
  message_type: string;
  metadata: Record<string, unknown> | null;
  sender_key: string | null;
}

export interface Sender extends SenderRef {
  channel: "whatsapp" | "sms";
  send(row: OutboxRow): Promise<SendResult>;
}

/**
 * Senders by key. A key names the sending identity, so one deployment can send from several
 * WhatsApp numbers (`whatsapp:<phone number id>`) or SMS sender ids (`sms:mtn:<sender id>`,
 * `sms:twilio:<from>`), each with its own pacing bucket. A row without a key goes through the
 * channel's default sender from the environment.
 */
export function createSenderDirectory(env: Env, opts: AdapterOptions = {}) {
  const cache = new Map<string, Sender>();
  const defaults = {
    whatsapp: whatsappSenderKey(env),
    sms: smsSenderKey(env),
  };

  function build(key: string): Sender | null {
    const [channel, ...rest] = key.split(":");
    if (channel === "whatsapp") {
      const wa = createWhatsAppAdapter({
        baseUrl: env.WHATSAPP_API_BASE_URL,
        accessToken: env.WHATSAPP_ACCESS_TOKEN,
        phoneNumberId: rest.join(":") || env.WHATSAPP_PHONE_NUMBER_ID,
      }, opts);
      return { key, channel: "whatsapp", ratePerSecond: env.WHATSAPP_RATE_PER_SECOND, send: (row) => sendWhatsApp(wa, row) };
    }
    if (channel === "sms") {
      const [provider, ...id] = rest;
      const sms = smsAdapter(env, provider, id.join(":"), opts);
      if (!sms) return null;
      return { key, channel: "sms", ratePerSecond: env.SMS_RATE_PER_SECOND, send: (row) => sms.send(row.recipient ?? "", row.body ?? "", { deliveryId: row.id }) };
    }
    return null;
  }

  return {
    defaults,
    /** The sender for a row: its own key, or the channel's default. Null for an unknown key. */
    resolve(channel: string, key?: string | null): Sender | null {
      const k = key ?? defaults[channel as "whatsapp" | "sms"];
      if (!k) return null;
      let sender = cache.get(k);
      if (!sender) {
        const built = build(k);
        if (!built) return null;
        cache.set(k, built);
        sender = built;
      }
      return sender;
    },
  };
}

export type SenderDirectory = ReturnType<typeof createSenderDirectory>;

export function whatsappSenderKey(env: Env): string {
  return `whatsapp:${env.WHATSAPP_PHONE_NUMBER_ID ?? "default"}`;
}

export function smsSenderKey(env: Env): string {
  return env.SMS_PROVIDER === "twilio"
    ? `sms:twilio:${env.TWILIO_FROM_NUMBER ?? "default"}`
    : `sms:mtn:${env.MTN_SMS_SENDER_ID ?? "default"}`;
}

function smsAdapter(env: Env, provider: string | undefined, id: string, opts: AdapterOptions): SmsAdapter | null {
  if (provider === "mtn") {
    return createMtnSmsAdapter({
      baseUrl: env.MTN_SMS_API_BASE_URL,
      apiKey: env.MTN_SMS_API_KEY,
      apiSecret: env.MTN_SMS_API_SECRET,
      senderId: id && id !== "default" ? id : env.MTN_SMS_SENDER_ID,
    }, opts);
  }
  if (provider === "twilio") {
    return createTwilioSmsAdapter({
      baseUrl: env.TWILIO_API_BASE_URL,
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      from: id && id !== "default" ? id : env.TWILIO_FROM_NUMBER,
      statusCallbackUrl: twilioStatusCallbackUrl(env.PUBLIC_FUNCTIONS_URL),
    }, opts);
  }
  return null;
}

/** A template row is re-sent as the same template; anything else as free text. */
function sendWhatsApp(wa: WhatsAppAdapter, row: OutboxRow): Promise<SendResult> {
  const template = row.metadata?.template as
    | { name: string; language: string; bodyParameters: string[] }
    | undefined;
  if (row.message_type === "template" && template?.name) {
    return wa.sendTemplate(row.recipient ?? "", template, { callbackData: row.id });
  }
  return wa.sendText(row.recipient ?? "", row.body ?? "", { callbackData: row.id });
}
