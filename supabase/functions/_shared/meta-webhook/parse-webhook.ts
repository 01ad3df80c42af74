import type { z } from "zod";
import type { InboundMessage } from "../conversations/record-inbound.ts";
import type { MetaChannel } from "../notifications/meta-format.ts";
import { pgSafe } from "../text/pg-safe.ts";
import * as S from "./schemas.ts";

/** What a person shared through a `user_phone_number` / `user_email` quick reply. */
export interface SharedIdentity {
  kind: "phone" | "email";
  value: string;
}

/** A message the page itself sent (`is_echo`): ours through the Send API, or a person in the inbox. */
export interface MetaEcho {
  channel: MetaChannel;
  /** The person it went to. */
  recipient: string;
  mid: string;
  body: string | null;
  /** Our row's id when we sent it (the Send API's `metadata`, echoed back). */
  ourDeliveryId?: string;
  metadata: Record<string, unknown>;
  correlationId: string;
}

/** Delivery or read receipts: every message to `person` sent up to `watermark` (ms). */
export interface WatermarkUpdate {
  channel: MetaChannel;
  person: string;
  status: "delivered" | "read";
  watermark: number;
  /** Messages named one by one (Messenger `delivery.mids`, Instagram's seen `mid`). */
  mids: string[];
}

export type MetaEvent =
  | { kind: "message"; message: InboundMessage; shared?: SharedIdentity }
  | { kind: "echo"; echo: MetaEcho }
  | { kind: "receipt"; update: WatermarkUpdate }
  /** Not recorded, only logged: `event` is the log event, `fields` what it says. */
  | { kind: "note"; level: "info" | "warn"; event: string; fields: Record<string, unknown> };

export type ParsedMetaWebhook =
  | { isMeta: true; events: MetaEvent[] }
  | { isMeta: false; object: string | null };

const CHANNEL_OF: Record<string, MetaChannel> = { page: "messenger", instagram: "instagram" };

/**
 * A signed Meta app webhook for Messenger (`object: "page"`) or Instagram (`object:
 * "instagram"`) as ordered events. Never throws: anything malformed or unknown becomes a `note`
 * (Meta retries a non-2xx for hours, so what we cannot use is logged and acknowledged).
 */
export function parseMetaWebhook(payload: unknown, correlationId: string): ParsedMetaWebhook {
  const envelope = S.Envelope.safeParse(payload);
  const channel = envelope.success && Object.hasOwn(CHANNEL_OF, envelope.data.object)
    ? CHANNEL_OF[envelope.data.object]
    : undefined;
  if (!envelope.success || !channel) {
    const object = (payload as { object?: unknown } | null)?.object;
    return { isMeta: false, object: typeof object === "string" ? object.slice(0, 64) : null };
  }
  const events: MetaEvent[] = [];
  for (const rawEntry of envelope.data.entry) {
    const entry = S.Entry.safeParse(rawEntry);
    if (!entry.success) {
      events.push(note("warn", "META_WEBHOOK_MALFORMED", { part: "entry" }));
      continue;
    }
    for (const raw of entry.data.messaging ?? []) {
      events.push(...messagingEvent(channel, raw, correlationId));
    }
    if (entry.data.changes?.length) {
      events.push(note("info", "META_CHANGES_IGNORED", { count: entry.data.changes.length }));
    }
  }
  return { isMeta: true, events: events.map((e) => pgSafe(e)) };
}

function messagingEvent(channel: MetaChannel, raw: unknown, correlationId: string): MetaEvent[] {
  const base = S.Messaging.safeParse(raw);
  if (!base.success) return [note("warn", "META_EVENT_MALFORMED", { reason: issueOf(base.error) })];
  const ev = base.data;
  const r = raw as Record<string, unknown>;
  const at = ev.timestamp;
  const ctx = { channel, correlationId, at };
  if ("message" in r) {
    const m = S.Message.safeParse(r.message);
    if (!m.success) return [invalid("message", m.error)];
    // An echo's sender is the page and its recipient the person.
    if (m.data.is_echo) return [echoOf(ctx, ev.recipient.id, m.data)];
    return [messageOf(ctx, ev.sender.id, m.data)];
  }
  if ("postback" in r) {
    const p = S.Postback.safeParse(r.postback);
    if (!p.success) return [invalid("postback", p.error)];
    return [postbackOf(ctx, ev.sender.id, p.data)];
  }
  if ("delivery" in r) {
    const d = S.Delivery.safeParse(r.delivery);
    if (!d.success) return [invalid("delivery", d.error)];
    return [receipt(channel, ev.sender.id, "delivered", d.data.watermark, d.data.mids ?? [])];
  }
  if ("read" in r) {
    const d = S.Read.safeParse(r.read);
    const watermark = d.success ? d.data.watermark ?? at : undefined;
    if (!d.success || watermark === undefined) {
      return [note("warn", "META_EVENT_INVALID", { event_type: "read" })];
    }
    return [receipt(channel, ev.sender.id, "read", watermark, d.data.mid ? [d.data.mid] : [])];
  }
  if ("reaction" in r) {
    const x = S.Reaction.safeParse(r.reaction);
    if (!x.success) return [invalid("reaction", x.error)];
    return [reactionOf(ctx, ev.sender.id, x.data)];
  }
  if ("referral" in r) {
    const x = S.Referral.safeParse(r.referral);
    if (!x.success) return [invalid("referral", x.error)];
    return [referralOf(ctx, ev.sender.id, x.data)];
  }
  const known = Object.keys(r).filter((k) => !["sender", "recipient", "timestamp"].includes(k));
  return [
    note("info", "META_EVENT_IGNORED", { event_type: known.slice(0, 3).join(",") || "empty" }),
  ];
}

interface Ctx {
  channel: MetaChannel;
  correlationId: string;
  at?: number;
}

function inbound(
  ctx: Ctx,
  sender: string,
  id: string,
  type: string,
  body: string | null,
  metadata: Record<string, unknown>,
  needsReply = true,
): InboundMessage {
  return {
    channel: ctx.channel,
    sender,
    provider: ctx.channel,
    providerMessageId: id,
    messageType: type,
    body,
    metadata: { ...metadata, ...(ctx.at ? { sent_at: new Date(ctx.at).toISOString() } : {}) },
    correlationId: ctx.correlationId,
    needsReply,
  };
}

function messageOf(ctx: Ctx, sender: string, m: z.infer<typeof S.Message>): MetaEvent {
  if (m.is_deleted) {
    return note("info", "META_MESSAGE_DELETED", {
      channel: ctx.channel,
      provider_message_id: m.mid,
    });
  }
  const attachments = (m.attachments ?? []).map(describeAttachment);
  const metadata: Record<string, unknown> = {
    ...(m.attachments?.length ? { attachments: m.attachments } : {}),
    ...(m.reply_to ? { reply_to: m.reply_to } : {}),
    ...(m.referral ? { referral: m.referral } : {}),
    ...(m.quick_reply ? { quick_reply_payload: m.quick_reply.payload } : {}),
  };
  const payload = m.quick_reply?.payload;
  const shared = sharedIdentity(m.text, payload);
  const text = m.text?.trim() || null;
  let body: string | null = [...attachments.map((a) => a.text), text].filter(Boolean).join(" ") ||
    null;
  let type = m.is_unsupported ? "unsupported" : attachments.length ? attachments[0].type : "text";
  if (payload !== undefined) {
    type = "quick_reply";
    // The person's choice, as the agent reads it: what they tapped and what it stands for.
    body = shared
      ? `[shared ${shared.kind === "phone" ? "phone number" : "email"}: ${shared.value}]`
      : `[chose: ${text ?? payload}${text && text !== payload ? ` (${payload})` : ""}]`;
  }
  if (type === "unsupported" && !body) body = "[unsupported message]";
  return {
    kind: "message",
    message: inbound(ctx, sender, m.mid, type, body, metadata),
    ...(shared ? { shared } : {}),
  };
}

const PHONE = /^\+?[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A `user_phone_number` / `user_email` quick reply: its payload is the number or address. */
function sharedIdentity(text?: string, payload?: string): SharedIdentity | undefined {
  const value = (payload ?? "").trim();
  if (!value || (text !== undefined && text.trim() !== value)) return undefined;
  const digits = value.replace(/[\s()-]/g, "");
  if (PHONE.test(digits)) {
    return { kind: "phone", value: digits.startsWith("+") ? digits : `+${digits}` };
  }
  if (EMAIL.test(value)) return { kind: "email", value: value.toLowerCase() };
  return undefined;
}

const BRACKET: Record<string, string> = {
  image: "image",
  audio: "audio",
  video: "video",
  file: "file",
  location: "location",
  share: "shared post",
  post: "shared post",
  ig_post: "shared post",
  reel: "reel",
  ig_reel: "reel",
  story_mention: "story mention",
  fallback: "link",
  template: "template",
};

function describeAttachment(a: z.infer<typeof S.Attachment>): { type: string; text: string } {
  const payload = a.payload ?? {};
  const type = payload.sticker_id !== undefined ? "sticker" : a.type;
  const label = Object.hasOwn(BRACKET, type)
    ? BRACKET[type]
    : type === "sticker"
    ? "sticker"
    : a.type;
  const title = typeof payload.title === "string" ? payload.title : a.title;
  const url = typeof payload.url === "string" ? payload.url : a.URL;
  const detail = title ? `: ${title.slice(0, 200)}` : type === "fallback" && url ? `: ${url}` : "";
  return {
    type: Object.hasOwn(BRACKET, type) || type === "sticker" ? type : "unsupported",
    text: `[${label}${detail}]`,
  };
}

function postbackOf(ctx: Ctx, sender: string, p: z.infer<typeof S.Postback>): MetaEvent {
  const id = p.mid || `postback:${sender}:${ctx.at ?? p.payload}`;
  const chose = p.title && p.title !== p.payload
    ? `${p.title} (${p.payload})`
    : p.title ?? p.payload;
  return {
    kind: "message",
    message: inbound(ctx, sender, id, "postback", `[chose: ${chose}]`, {
      postback: { title: p.title ?? null, payload: p.payload },
      ...(p.referral ? { referral: p.referral } : {}),
    }),
  };
}

function reactionOf(ctx: Ctx, sender: string, x: z.infer<typeof S.Reaction>): MetaEvent {
  const emoji = x.emoji ?? x.reaction ?? "";
  const id = `${x.mid}#${x.action}:${sender}:${ctx.at ?? ""}`;
  const body = x.action === "react"
    ? `[reacted ${emoji}]`.replace(" ]", "]")
    : "[removed a reaction]";
  return {
    kind: "message",
    message: inbound(ctx, sender, id, "reaction", body, { reaction: x }, false),
  };
}

function referralOf(ctx: Ctx, sender: string, x: z.infer<typeof S.Referral>): MetaEvent {
  const id = `referral:${sender}:${ctx.at ?? x.ref ?? ""}`;
  return {
    kind: "message",
    message: inbound(ctx, sender, id, "referral", `[referral${x.ref ? `: ${x.ref}` : ""}]`, {
      referral: x,
    }, false),
  };
}

function echoOf(ctx: Ctx, recipient: string, m: z.infer<typeof S.Message>): MetaEvent {
  const attachments = (m.attachments ?? []).map(describeAttachment);
  const body = [...attachments.map((a) => a.text), m.text?.trim()].filter(Boolean).join(" ") ||
    null;
  const ours = m.metadata && UUID.test(m.metadata) ? m.metadata : undefined;
  return {
    kind: "echo",
    echo: {
      channel: ctx.channel,
      recipient,
      mid: m.mid,
      body,
      ...(ours ? { ourDeliveryId: ours } : {}),
      metadata: {
        echo: true,
        ...(m.app_id ? { app_id: m.app_id } : {}),
        ...(m.attachments?.length ? { attachments: m.attachments } : {}),
      },
      correlationId: ctx.correlationId,
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function receipt(
  channel: MetaChannel,
  person: string,
  status: WatermarkUpdate["status"],
  watermark: number,
  mids: string[],
): MetaEvent {
  return { kind: "receipt", update: { channel, person, status, watermark, mids } };
}

function invalid(event: string, error: z.ZodError): MetaEvent {
  return note("warn", "META_EVENT_INVALID", { event_type: event, reason: issueOf(error) });
}

function issueOf(error: z.ZodError): string {
  const i = error.issues[0];
  return `${i.path.join(".") || "event"}: ${i.message}`;
}

function note(
  level: "info" | "warn",
  event: string,
  fields: Record<string, unknown>,
): MetaEvent {
  return { kind: "note", level, event, fields };
}
