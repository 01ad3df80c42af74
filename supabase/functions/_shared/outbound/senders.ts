import type { Env } from "../config.ts";
import type { AdapterOptions, EmailMessage, SendResult, SmsAdapter } from "./adapter.ts";
import { createWhatsAppAdapter, type WhatsAppAdapter } from "../channels/whatsapp.ts";
import { createMtnSmsAdapter } from "../channels/sms-mtn.ts";
import { createTwilioSmsAdapter, twilioStatusCallbackUrl } from "../channels/sms-twilio.ts";
import { createResendAdapter } from "../channels/email-resend.ts";
import type { SenderRef } from "./pacing.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import { notConfigured } from "../channels/http.ts";
import type { OutboundMedia } from "../media/outbound.ts";

export interface SenderDirectoryOptions extends AdapterOptions {
  /**
   * Tenant WhatsApp numbers (tenants/accounts.ts): a `whatsapp:<id>` sender of a number other
   * than WHATSAPP_PHONE_NUMBER_ID sends with that account's token. Without it, every WhatsApp
   * sender uses WHATSAPP_ACCESS_TOKEN (tests and tools that only know the env number).
   */
  whatsappAccounts?: { whatsapp(phoneNumberId: string): Promise<WhatsAppAccount | null> };
}
import { createMetaAdapter, type MetaAdapter, type MetaMessage } from "../channels/meta.ts";
import type { MetaChannel } from "../notifications/meta-format.ts";
import { messagingTypeAt, metaWindowClosed } from "./meta-window.ts";

/** One message as a sender sends it: a logged outbound row (dispatch re-sends rows as they are). */
export interface OutboxRow {
  id: string;
  channel: string;
  recipient: string | null;
  body: string | null;
  /** text, template (WhatsApp): then `metadata.template` is what is sent, or email: `metadata.email`. */
  message_type: string;
  metadata: Record<string, unknown> | null;
  sender_key: string | null;
  /** Our own dedupe key, when the row has one; email sends it as the provider's Idempotency-Key. */
  idempotency_key?: string | null;
}

export type SendChannel = "whatsapp" | "sms" | MetaChannel;
/** Every channel a sender sends on: sendMessage's, and email (outbound/send-email.ts). */
export type SenderChannel = SendChannel | "email";

export interface Sender extends SenderRef {
  channel: SenderChannel;
  /** whatsapp, mtn, twilio, messenger, instagram or resend: who answers for this sender. */
  provider: string;
  send(row: OutboxRow): Promise<SendResult>;
  /**
   * Several rows in one provider call (email), one result each, in order; the pacer's token is
   * then one call, not one row. Rows it cannot take (`batchable` false) go through `send`.
   */
  batch?: {
    max: number;
    batchable(row: OutboxRow): boolean;
    send(rows: OutboxRow[]): Promise<SendResult[]>;
  };
}

export type SmsProvider = "mtn" | "twilio";

/**
 * The one place the environment becomes provider adapters. Senders by key: a key names the
 * sending identity, so one deployment can send from several WhatsApp numbers
 * (`whatsapp:<phone number id>`) and from both SMS providers at once (`sms:mtn:<sender id>`,
 * `sms:twilio:<from>`), each with its own pacing bucket; Messenger and Instagram send as the page
 * or account their token belongs to (`messenger:default`, `instagram:default`). A message nobody
 * asked for goes through the channel's default sender (`SMS_PROVIDER` for SMS); a reply, through
 * the one written to.
 */
export function createSenderDirectory(
  env: Env,
  opts: SenderDirectoryOptions & { now?: () => number } = {},
) {
  const cache = new Map<string, Sender>();
  const defaults: Record<SenderChannel, string> = {
    whatsapp: whatsappSenderKey(env),
    sms: smsSenderKey(env, env.SMS_PROVIDER),
    messenger: "messenger:default",
    instagram: "instagram:default",
    email: `email:resend:${env.EMAIL_FROM ?? "default"}`,
  };
  const now = opts.now ?? Date.now;

  function build(key: string): Sender | null {
    const [channel, ...rest] = key.split(":");
    if (channel === "whatsapp") {
      const phoneNumberId = orEnv(rest.join(":"), env.WHATSAPP_PHONE_NUMBER_ID);
      const adapterFor = (accessToken: string | undefined) =>
        createWhatsAppAdapter(
          { baseUrl: env.WHATSAPP_API_BASE_URL, accessToken, phoneNumberId },
          opts,
        );
      const accounts = opts.whatsappAccounts;
      const own = accounts && phoneNumberId && phoneNumberId !== env.WHATSAPP_PHONE_NUMBER_ID;
      const wa = adapterFor(env.WHATSAPP_ACCESS_TOKEN);
      const byToken = new Map<string, WhatsAppAdapter>();
      // A tenant's number: its own token, looked up (cached) at send time.
      const send = own
        ? async (row: OutboxRow): Promise<SendResult> => {
          const account = await accounts.whatsapp(phoneNumberId);
          if (!account?.accessToken) {
            return {
              ok: false,
              provider: "whatsapp",
              error: notConfigured([`access token of ${phoneNumberId}`]),
            };
          }
          let adapter = byToken.get(account.accessToken);
          if (!adapter) byToken.set(account.accessToken, adapter = adapterFor(account.accessToken));
          return sendWhatsApp(adapter, row);
        }
        : (row: OutboxRow) => sendWhatsApp(wa, row);
      return {
        key,
        channel,
        provider: "whatsapp",
        ratePerSecond: env.WHATSAPP_RATE_PER_SECOND,
        send,
      };
    }
    if (channel === "sms") {
      const [provider, ...id] = rest;
      const sms = smsAdapter(env, provider, id.join(":"), opts);
      if (!sms) return null;
      // A media row's text is its caption and link; Twilio also sends the file itself (MMS).
      const send = (row: OutboxRow) =>
        sms.send(row.recipient ?? "", row.body ?? "", {
          deliveryId: row.id,
          ...(sms.provider === "twilio" && (row.metadata?.media as OutboundMedia)?.link
            ? { mediaUrl: (row.metadata!.media as OutboundMedia).link }
            : {}),
        });
      return { key, channel, provider: sms.provider, ratePerSecond: env.SMS_RATE_PER_SECOND, send };
    }
    if (channel === "messenger" || channel === "instagram") {
      const meta = metaAdapterOf(env, channel, opts);
      const send = (row: OutboxRow) => sendMeta(meta, row, now());
      return { key, channel, provider: channel, ratePerSecond: env.META_RATE_PER_SECOND, send };
    }
    if (channel === "email" && rest[0] === "resend") {
      return emailSender(env, key, orEnv(rest.slice(1).join(":"), env.EMAIL_FROM), opts);
    }
    return null;
  }

  return {
    defaults,
    /** The sender for a row: its own key, or the channel's default. Null for an unknown key. */
    resolve(channel: string, key?: string | null): Sender | null {
      const k = key ?? defaults[channel as SenderChannel];
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
    /**
     * The SMS sender that answers a person who wrote to `to` through `provider`: Twilio from the
     * number they texted, MTN from its configured sender id.
     */
    replyKey(provider: SmsProvider, to?: string | null): string {
      return provider === "twilio" && to ? `sms:twilio:${to}` : smsSenderKey(env, provider);
    },
  };
}

export type SenderDirectory = ReturnType<typeof createSenderDirectory>;

function whatsappSenderKey(env: Env): string {
  return `whatsapp:${env.WHATSAPP_PHONE_NUMBER_ID ?? "default"}`;
}

function smsSenderKey(env: Env, provider: SmsProvider): string {
  return provider === "twilio"
    ? `sms:twilio:${env.TWILIO_FROM_NUMBER ?? "default"}`
    : `sms:mtn:${env.MTN_SMS_SENDER_ID ?? "default"}`;
}

const orEnv = (id: string, fromEnv: string | undefined) => id && id !== "default" ? id : fromEnv;

/** The page's (Messenger) or account's (Instagram) adapter: sends, sender actions, profiles. */
export function metaAdapterOf(
  env: Env,
  channel: MetaChannel,
  opts: AdapterOptions = {},
): MetaAdapter {
  return createMetaAdapter({
    channel,
    baseUrl: env.META_GRAPH_BASE_URL,
    accessToken: channel === "messenger"
      ? env.MESSENGER_PAGE_ACCESS_TOKEN
      : env.INSTAGRAM_ACCESS_TOKEN,
  }, opts);
}

/** Missing credentials fail closed at send time (CHANNEL.NOT_CONFIGURED), never fall back to another provider. */
function smsAdapter(
  env: Env,
  provider: string | undefined,
  id: string,
  opts: AdapterOptions,
): SmsAdapter | null {
  if (provider === "mtn") {
    return createMtnSmsAdapter({
      baseUrl: env.MTN_SMS_API_BASE_URL,
      apiKey: env.MTN_SMS_API_KEY,
      apiSecret: env.MTN_SMS_API_SECRET,
      senderId: orEnv(id, env.MTN_SMS_SENDER_ID),
    }, opts);
  }
  if (provider === "twilio") {
    return createTwilioSmsAdapter({
      baseUrl: env.TWILIO_API_BASE_URL,
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      from: orEnv(id, env.TWILIO_FROM_NUMBER),
      statusCallbackUrl: twilioStatusCallbackUrl(env.PUBLIC_FUNCTIONS_URL),
    }, opts);
  }
  return null;
}

/** A template row is sent as its template, a media row (`metadata.media`) as its media; anything else as free text. */
function sendWhatsApp(wa: WhatsAppAdapter, row: OutboxRow): Promise<SendResult> {
  const template = row.metadata?.template as
    | { name: string; language: string; bodyParameters: string[] }
    | undefined;
  if (row.message_type === "template" && template?.name) {
    return wa.sendTemplate(row.recipient ?? "", template, { callbackData: row.id });
  }
  const media = row.metadata?.media as OutboundMedia | undefined;
  if (media?.link) return wa.sendMedia(row.recipient ?? "", media, { callbackData: row.id });
  return wa.sendText(row.recipient ?? "", row.body ?? "", { callbackData: row.id });
}

/**
 * A Messenger/Instagram row: the window decided at send time from when the person last wrote
 * (`metadata.last_inbound_at`, set when the row was begun), so a retry days later is tagged or
 * refused as the clock says then; refused as window_closed before any HTTP call after 7 days.
 * `metadata.meta_message` carries quick replies, attachments and templates; else the body.
 */
function sendMeta(meta: MetaAdapter, row: OutboxRow, now: number): Promise<SendResult> {
  const messaging = messagingTypeAt(row.metadata?.last_inbound_at as string | undefined, now);
  if (!messaging) return Promise.resolve(metaWindowClosed(meta.channel));
  const message = (row.metadata?.meta_message as MetaMessage | undefined) ??
    { kind: "text", text: row.body ?? "" };
  return meta.send(row.recipient ?? "", message, messaging, { deliveryId: row.id });
}

/**
 * Resend, from one address. Its limit is on API calls, so a batch of up to 100 takes one pacing
 * token (EMAIL_RATE_PER_SECOND counts calls). Attachments are not accepted by the batch
 * endpoint: such a row goes alone.
 */
function emailSender(
  env: Env,
  key: string,
  from: string | undefined,
  opts: AdapterOptions,
): Sender {
  const resend = createResendAdapter({
    baseUrl: env.RESEND_API_BASE_URL,
    apiKey: env.RESEND_API_KEY,
    from,
  }, opts);
  return {
    key,
    channel: "email",
    provider: resend.provider,
    ratePerSecond: env.EMAIL_RATE_PER_SECOND,
    send: (row) => resend.send(emailOf(row)),
    batch: {
      max: resend.maxBatch,
      batchable: (row) => !emailOf(row).attachments?.length,
      send: async (rows) =>
        resend.sendBatch(rows.map(emailOf), `batch:${await digest(rows.map((r) => r.id))}`),
    },
  };
}

/** What an email row's metadata carries besides its text body (outbound/email.ts writes it). */
export type EmailFields = Omit<EmailMessage, "to" | "text" | "idempotencyKey">;

export function emailOf(row: OutboxRow): EmailMessage {
  const fields = (row.metadata?.email ?? {}) as Partial<EmailFields>;
  return {
    ...fields,
    to: row.recipient ?? "",
    subject: fields.subject ?? "",
    text: row.body ?? "",
    // The row is the email: a retry of it (after a timeout) is the same email at the provider.
    idempotencyKey: row.idempotency_key ?? row.id,
  };
}

/** A batch's key: the same rows again (a retried call) are the same batch at the provider. */
async function digest(ids: string[]): Promise<string> {
  const bytes = new TextEncoder().encode([...ids].sort().join(","));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
