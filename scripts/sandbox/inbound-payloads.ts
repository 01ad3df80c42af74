import { randomBase64, randomHex } from "./http.ts";
import { smsSegments } from "./sms-segments.ts";
import type { SandboxCredentials } from "./provider.ts";
import type { Webhook } from "./webhook.ts";
import { META_PAGE } from "./meta.ts";

/**
 * The webhook each provider sends when a person writes to the business, built as the provider
 * builds it. Phone numbers come in as E.164 (`+250788123456`) and go out in the provider's own
 * spelling: digits for WhatsApp's wa_id and MTN's MSISDN, E.164 for Twilio.
 */

export interface InboundText {
  /** E.164 */
  from: string;
  text: string;
  /** The person's WhatsApp profile name. */
  name?: string;
  now: Date;
}

/** The sandbox's WhatsApp business: its WABA id and the number people write to. */
export const WHATSAPP_BUSINESS = {
  accountId: "100000000000000",
  displayPhoneNumber: "15550001001",
};

/** The number people text on the MTN-style gateway (its short code). */
export const MTN_SHORT_CODE = "4040";

const digits = (e164: string) => e164.replace(/^\+/, "");
export const unixSeconds = (d: Date) => String(Math.floor(d.getTime() / 1000));

/**
 * A WhatsApp Cloud API `messages` webhook for the sandbox's business number, carrying `value`
 * (messages with contacts, or statuses), sent to wa-webhook.
 */
export function whatsappWebhook(
  value: Record<string, unknown>,
  c: SandboxCredentials,
  providerMessageId: string,
): Webhook {
  const payload = {
    object: "whatsapp_business_account",
    entry: [{
      id: WHATSAPP_BUSINESS.accountId,
      changes: [{
        value: {
          messaging_product: "whatsapp",
          metadata: {
            display_phone_number: WHATSAPP_BUSINESS.displayPhoneNumber,
            phone_number_id: c.whatsappPhoneNumberId,
          },
          ...value,
        },
        field: "messages",
      }],
    }],
  };
  return {
    provider: "whatsapp",
    path: "/wa-webhook",
    body: JSON.stringify(payload),
    providerMessageId,
  };
}

/** A WhatsApp Cloud API `messages` webhook with one text message, as Meta sends it. */
export function whatsappInbound(m: InboundText, c: SandboxCredentials): Webhook {
  const waId = digits(m.from);
  const id = `wamid.${randomBase64(36)}`;
  return whatsappWebhook(
    {
      contacts: [{ profile: { name: m.name ?? "Sandbox User" }, wa_id: waId }],
      messages: [{
        from: waId,
        id,
        timestamp: unixSeconds(m.now),
        type: "text",
        text: { body: m.text },
      }],
    },
    c,
    id,
  );
}

/** A file a person sends on WhatsApp: the media object Meta puts in the webhook. */
export interface InboundMedia {
  type: "image" | "video" | "audio" | "document" | "sticker";
  id: string;
  mime: string;
  sha256: string;
  caption?: string;
  filename?: string;
}

/** A WhatsApp `messages` webhook with one media message (the file is fetched by its id). */
export function whatsappMediaInbound(
  m: Omit<InboundText, "text"> & { media: InboundMedia },
  c: SandboxCredentials,
): Webhook {
  const waId = digits(m.from);
  const id = `wamid.${randomBase64(36)}`;
  const { type, id: mediaId, mime, sha256, caption, filename } = m.media;
  return whatsappWebhook(
    {
      contacts: [{ profile: { name: m.name ?? "Sandbox User" }, wa_id: waId }],
      messages: [{
        from: waId,
        id,
        timestamp: unixSeconds(m.now),
        type,
        [type]: {
          id: mediaId,
          mime_type: mime,
          sha256: btoa(
            String.fromCharCode(...(sha256.match(/../g) ?? []).map((h) => parseInt(h, 16))),
          ),
          ...(caption && type !== "audio" && type !== "sticker" ? { caption } : {}),
          ...(filename && type === "document" ? { filename } : {}),
        },
      }],
    },
    c,
    id,
  );
}

/** The MTN-style gateway's inbound SMS: `{from, to, message, id}` as JSON. */
export function mtnInbound(m: InboundText): Webhook {
  const id = randomHex(12);
  const payload = { from: digits(m.from), to: MTN_SHORT_CODE, message: m.text, id };
  return {
    provider: "mtn",
    path: "/sms-inbound",
    body: JSON.stringify(payload),
    providerMessageId: id,
  };
}

/** Twilio's incoming-message webhook: the form it posts to the number's messaging URL. */
export function twilioInbound(m: InboundText, c: SandboxCredentials): Webhook {
  const sid = `SM${randomHex(16)}`;
  const form: [string, string][] = [
    ["ToCountry", ""],
    ["SmsMessageSid", sid],
    ["NumMedia", "0"],
    ["SmsSid", sid],
    ["SmsStatus", "received"],
    ["Body", m.text],
    ["To", c.twilioFromNumber],
    ["NumSegments", String(smsSegments(m.text))],
    ["MessageSid", sid],
    ["AccountSid", c.twilioAccountSid],
    ["From", m.from],
    ["ApiVersion", "2010-04-01"],
  ];
  return {
    provider: "twilio",
    path: "/sms-inbound",
    body: new URLSearchParams(form).toString(),
    form,
    providerMessageId: sid,
  };
}

/** What a person does on Messenger/Instagram: writes, taps a quick reply, or a button. */
export interface MetaInbound {
  channel: "messenger" | "instagram";
  /** The PSID / IGSID. */
  from: string;
  text: string;
  /** A quick reply's payload (for a shared phone number or email: the value itself). */
  payload?: string;
  /** A button's payload: a `postback` instead of a message (`text` is the button's title). */
  postback?: string;
  now: Date;
}

/** A Meta app webhook (`object: page` or `instagram`) with one `messaging[]` event, to meta-webhook. */
export function metaWebhook(
  channel: "messenger" | "instagram",
  event: Record<string, unknown>,
  providerMessageId: string,
): Webhook {
  const id = channel === "messenger" ? META_PAGE.pageId : META_PAGE.instagramAccountId;
  const payload = {
    object: channel === "messenger" ? "page" : "instagram",
    entry: [{ id, time: Date.now(), messaging: [{ recipient: { id }, ...event }] }],
  };
  return {
    provider: "meta",
    path: "/meta-webhook",
    body: JSON.stringify(payload),
    providerMessageId,
  };
}

export function metaInbound(m: MetaInbound): Webhook {
  const mid = `m_${randomBase64(32)}`;
  const base = { sender: { id: m.from }, timestamp: m.now.getTime() };
  const event = m.postback !== undefined
    ? { ...base, postback: { mid, title: m.text, payload: m.postback } }
    : {
      ...base,
      message: {
        mid,
        text: m.text,
        ...(m.payload !== undefined ? { quick_reply: { payload: m.payload } } : {}),
      },
    };
  return metaWebhook(m.channel, event, mid);
}
