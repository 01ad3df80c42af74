import { z } from "zod";
import {
  metaInbound,
  mtnInbound,
  twilioInbound,
  whatsappInbound,
  whatsappMediaInbound,
} from "./inbound-payloads.ts";
import { fileOf, FileSpec, type MediaFiles } from "./media.ts";
import { resendInbound } from "./email-payloads.ts";
import { parseJson, randomHex } from "./http.ts";
import type { MessageStore } from "./messages.ts";
import { smsSegments } from "./sms-segments.ts";
import { deliverWebhook, type Delivery, type Webhook, type WebhookTarget } from "./webhook.ts";

/** `POST /__sandbox/inbound`: a person writes to the business. */
const Phone = z.string().trim().regex(/^\+?[1-9]\d{6,14}$/, "must be a phone number in E.164")
  .transform((n) => (n.startsWith("+") ? n : `+${n}`));
/** A PSID / IGSID: Meta's page-scoped ids are digits. */
const ScopedId = z.string().trim().regex(/^\d{5,32}$/, "must be a page-scoped id (digits)");
const EmailAddress = z.email("must be an email address").transform((a) => a.toLowerCase());

export const InboundSchema = z.object({
  channel: z.enum(["whatsapp", "sms", "messenger", "instagram", "email"]),
  /**
   * The person: E.164 on WhatsApp/SMS (a leading + is added to bare digits), their PSID/IGSID on
   * Messenger/Instagram, or an email address.
   */
  from: z.string().trim().max(320),
  /** The text; with `media`, its caption (optional). */
  text: z.string().min(1).max(4096).optional(),
  /** WhatsApp only: a file the person sends (sandbox/media.ts FileSpec), as this message type. */
  media: FileSpec.extend({
    type: z.enum(["image", "video", "audio", "document", "sticker"]).optional(),
  }).optional(),
  /** Email only: the subject (default: "Re: " the last email the sandbox sent them). */
  subject: z.string().max(998).optional(),
  /** SMS only: which gateway it arrives through (default: the stack's SMS_PROVIDER). */
  provider: z.enum(["mtn", "twilio"]).optional(),
  /** WhatsApp only: the person's profile name. */
  name: z.string().max(256).optional(),
  /** Messenger/Instagram: the tapped quick reply's payload. */
  payload: z.string().min(1).max(1000).optional(),
  /** Messenger/Instagram: a button's payload (a postback; `text` is its title). */
  postback: z.string().min(1).max(1000).optional(),
}).transform((v, ctx) => {
  if (v.media && v.channel !== "whatsapp") {
    ctx.addIssue({ code: "custom", path: ["media"], message: "media is sent on WhatsApp only" });
    return z.NEVER;
  }
  if (!v.text && !v.media) {
    ctx.addIssue({ code: "custom", path: ["text"], message: "text is required" });
    return z.NEVER;
  }
  const meta = v.channel === "messenger" || v.channel === "instagram";
  const from = (v.channel === "email" ? EmailAddress : meta ? ScopedId : Phone).safeParse(v.from);
  if (!from.success) {
    ctx.addIssue({ code: "custom", path: ["from"], message: from.error.issues[0].message });
    return z.NEVER;
  }
  return { ...v, text: v.text ?? "", from: from.data };
});

export type Inbound = z.infer<typeof InboundSchema>;

export interface InboundResult {
  /** The webhook's HTTP status. */
  delivered: number;
  channel: Inbound["channel"];
  provider: Webhook["provider"];
  provider_message_id: string;
  /** The webhook's answer: JSON when it sent JSON, else its text (Twilio's TwiML). */
  response: unknown;
}

export interface InboundDeps {
  target: WebhookTarget;
  smsProvider: "mtn" | "twilio";
  messages: MessageStore;
  now: () => Date;
  /** The files people send on WhatsApp (fetched back through the media endpoints). */
  media: MediaFiles;
  /** Resend's received emails: an inbound email is put there before its webhook is sent. */
  emailInbox: Map<string, Record<string, unknown>>;
}

/**
 * Builds the provider's own webhook for the message, signs it as the provider does, and posts
 * it to the function that takes it (wa-webhook or sms-inbound). A `<Message>` in Twilio's
 * TwiML answer is what Twilio would then text the person, so it is recorded like a sent SMS
 * (without status callbacks: a TwiML `<Message>` with no statusCallback gets none).
 */
export async function deliverInbound(input: Inbound, deps: InboundDeps): Promise<InboundResult> {
  const m = { from: input.from, text: input.text, name: input.name, now: deps.now() };
  const c = deps.target.credentials;
  const webhook = input.channel === "whatsapp" && input.media
    ? await whatsappMediaWebhook(input, m, deps)
    : input.channel === "email"
    ? resendInbound({ ...m, subject: input.subject }, deps)
    : input.channel === "messenger" || input.channel === "instagram"
    ? metaInbound({
      ...m,
      channel: input.channel,
      payload: input.payload,
      postback: input.postback,
    })
    : input.channel === "whatsapp"
    ? whatsappInbound(m, c)
    : (input.provider ?? deps.smsProvider) === "twilio"
    ? twilioInbound(m, c)
    : mtnInbound(m);
  const res = await deliverWebhook(webhook, deps.target);
  if (webhook.provider === "twilio") recordTwimlReply(res, input.from, deps);
  return {
    delivered: res.status,
    channel: input.channel,
    provider: webhook.provider,
    provider_message_id: webhook.providerMessageId,
    response: res.contentType.includes("json") ? parseJson(res.text) ?? res.text : res.text,
  };
}

async function whatsappMediaWebhook(
  input: Inbound,
  m: { from: string; name?: string; now: Date },
  deps: InboundDeps,
) {
  const spec = input.media!;
  const file = fileOf(spec);
  if (!file) throw new InboundRefused("media: a known fixture, or base64 with mime");
  const filename = spec.filename ?? spec.fixture;
  const held = await deps.media.add(file.bytes, file.mime, filename);
  const type = spec.type ??
    (file.mime === "image/webp"
      ? "sticker"
      : /^image\//.test(file.mime)
      ? "image"
      : /^video\//.test(file.mime)
      ? "video"
      : /^audio\//.test(file.mime)
      ? "audio"
      : "document");
  return whatsappMediaInbound({
    ...m,
    media: {
      type,
      id: held.id,
      mime: file.mime,
      sha256: held.sha256,
      caption: input.text || undefined,
      filename,
    },
  }, deps.target.credentials);
}

/** A request the sandbox cannot turn into a webhook (answered 400). */
export class InboundRefused extends Error {}

function recordTwimlReply(res: Delivery, to: string, deps: InboundDeps): void {
  const text = res.text.match(/<Message(?:\s[^>]*)?>([\s\S]*?)<\/Message>/)?.[1];
  if (res.status !== 200 || text === undefined) return;
  const body = unescapeXml(text);
  deps.messages.record({
    id: `SM${randomHex(16)}`,
    provider: "twilio",
    channel: "sms",
    to,
    from: deps.target.credentials.twilioFromNumber,
    body,
    segments: smsSegments(body),
    request_body: res.text,
    headers: { "content-type": res.contentType },
    received_at: deps.now().toISOString(),
  }, { notify: false });
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] !== "#") return ENTITIES[e] ?? whole;
    const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return String.fromCodePoint(code);
  });
}
