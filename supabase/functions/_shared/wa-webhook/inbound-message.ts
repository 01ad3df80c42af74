import type { z } from "zod";
import type { InboundMessage } from "../conversations/record-inbound.ts";
import * as S from "./schemas.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { e164Shaped } from "../phone.ts";
import { isoFromUnixSeconds } from "./timestamps.ts";

/** What the change around a message tells about it. */
export interface MessageEnvelope {
  correlationId: string;
  /** wa_id → the person's WhatsApp profile name (`value.contacts`). */
  names: ReadonlyMap<string, string>;
  business?: { display_phone_number?: string; phone_number_id?: string };
}

export type MessageParse =
  | { ok: true; message: InboundMessage }
  | { ok: false; reason: string; providerMessageId?: string };

/** The type-specific part of a message, as the AI and the console read it. */
interface Content {
  type: string;
  body: string | null;
  metadata: Record<string, unknown>;
  needsReply?: boolean;
}

type Reader = (part: unknown, type: string) => Content | null;

/** How long a form's answers may grow in the body the AI reads (the full JSON is in metadata). */
const MAX_FORM_BODY = 2_000;

/**
 * One message of Meta's `messages[]` as an InboundMessage: the text, a caption, a button or list
 * title, or a short bracketed description ("[image: image/jpeg] caption") as the body; media
 * ids, location, contacts, context, referral and the raw type-specific fields in metadata.
 * A message whose type Meta documents but whose fields are malformed is refused (logged by the
 * caller); a type we do not know is kept as `unsupported`, so nothing a person sent is lost.
 */
export function toInboundMessage(raw: unknown, env: MessageEnvelope): MessageParse {
  const base = S.MessageBase.safeParse(raw);
  if (!base.success) return { ok: false, reason: issueOf(base.error) };
  const m = base.data;
  const sender = e164Shaped(m.from);
  if (!sender) return { ok: false, reason: "from is not a phone number", providerMessageId: m.id };

  const part = (raw as Record<string, unknown>)[m.type];
  // Own keys only: a type named like an Object.prototype member ("toString") is just unknown.
  const read = Object.hasOwn(READERS, m.type) ? READERS[m.type] : unsupported;
  const content = read(part, m.type);
  if (!content) return { ok: false, reason: `${m.type} is malformed`, providerMessageId: m.id };

  const digits = sender.slice(1);
  return {
    ok: true,
    message: pgSafe({
      channel: "whatsapp",
      sender,
      provider: "whatsapp",
      providerMessageId: m.id,
      messageType: content.type,
      body: content.body,
      metadata: {
        ...content.metadata,
        ...common(m, env),
      },
      correlationId: env.correlationId,
      whatsappJid: digits,
      displayName: env.names.get(m.from) ?? env.names.get(digits),
      needsReply: content.needsReply ?? true,
    }),
  };
}

function common(m: S.MessageBaseT, env: MessageEnvelope): Record<string, unknown> {
  return {
    sent_at: isoFromUnixSeconds(m.timestamp),
    business: env.business,
    context: m.context,
    referral: m.referral,
    errors: m.errors,
  };
}

function parsed<T extends z.ZodType>(schema: T, part: unknown): z.infer<T> | null {
  const r = schema.safeParse(part);
  return r.success ? r.data : null;
}

const text: Reader = (part) => {
  const t = parsed(S.Text, part);
  return t && { type: "text", body: t.body, metadata: {} };
};

const media: Reader = (part, type) => {
  const m = parsed(S.Media, part);
  if (!m) return null;
  const label = type === "audio" && m.voice ? "voice message" : type;
  const file = m.filename ? ` ${m.filename}` : "";
  return {
    type,
    body: `[${label}: ${m.mime_type}${file}]${m.caption ? ` ${m.caption}` : ""}`,
    metadata: { media: m },
  };
};

const location: Reader = (part) => {
  const l = parsed(S.Location, part);
  if (!l) return null;
  const place = [l.name, l.address].filter(Boolean).join(", ");
  return {
    type: "location",
    body: `[location: ${l.latitude},${l.longitude}${place ? ` ${place}` : ""}]`,
    metadata: { location: l },
  };
};

const contacts: Reader = (part) => {
  const cards = parsed(S.Contacts, part);
  if (!cards) return null;
  const names = cards.map((c) =>
    c.name?.formatted_name ||
    [c.name?.first_name, c.name?.last_name].filter(Boolean).join(" ") ||
    c.phones?.[0]?.phone ||
    "contact"
  );
  return {
    type: "contacts",
    body: `[contacts: ${names.join(", ")}]`,
    metadata: { contacts: cards },
  };
};

const interactive: Reader = (part) => {
  const i = parsed(S.Interactive, part);
  if (!i) return null;
  if (i.type === "button_reply" && i.button_reply) {
    return {
      type: "interactive",
      body: i.button_reply.title,
      metadata: { interactive: { type: i.type, ...i.button_reply } },
    };
  }
  if (i.type === "list_reply" && i.list_reply) {
    return {
      type: "interactive",
      body: i.list_reply.title,
      metadata: { interactive: { type: i.type, ...i.list_reply } },
    };
  }
  if (i.type === "nfm_reply" && i.nfm_reply) {
    const { name, body, response_json } = i.nfm_reply;
    const answers = response_json.length > MAX_FORM_BODY
      ? `${response_json.slice(0, MAX_FORM_BODY)}…`
      : response_json;
    return {
      type: "interactive",
      body: `[form reply${name ? `: ${name}` : ""}] ${answers}`,
      metadata: { interactive: { type: i.type, name, body, response_json } },
    };
  }
  if (i.type === "button_reply" || i.type === "list_reply" || i.type === "nfm_reply") return null;
  // Other interactive answers (a call permission reply, ...) are controls, not words: recorded,
  // not answered.
  return {
    type: "interactive",
    body: `[interactive: ${i.type}]`,
    metadata: { interactive: { type: i.type } },
    needsReply: false,
  };
};

const button: Reader = (part) => {
  const b = parsed(S.Button, part);
  return b && { type: "button", body: b.text, metadata: { button: b } };
};

const reaction: Reader = (part) => {
  const r = parsed(S.Reaction, part);
  if (!r) return null;
  return {
    type: "reaction",
    body: r.emoji ? `[reaction: ${r.emoji}]` : "[reaction removed]",
    metadata: { reaction: r },
    needsReply: false,
  };
};

const order: Reader = (part) => {
  const o = parsed(S.Order, part);
  if (!o) return null;
  const n = o.product_items.length;
  return {
    type: "order",
    body: `[order: ${n} item${n === 1 ? "" : "s"}${orderTotal(o.product_items)}]${
      o.text ? ` ${o.text}` : ""
    }`,
    metadata: { order: o },
  };
};

const system: Reader = (part) => {
  const s = parsed(S.System, part);
  if (!s) return null;
  return {
    type: "system",
    body: s.body ?? `[system: ${s.type ?? "update"}]`,
    metadata: { system: s },
    needsReply: false,
  };
};

/** Meta's `unsupported` (formerly `unknown`), and any type this code does not know yet. */
const unsupported: Reader = (part, type) => {
  const known = type === "unsupported" || type === "unknown";
  const original = known ? parsed(S.Unsupported, part)?.type : type;
  return {
    type: "unsupported",
    body: `[unsupported message${original ? `: ${original}` : ""}]`,
    metadata: { unsupported: { type: original } },
  };
};

const READERS: Record<string, Reader> = {
  text,
  image: media,
  audio: media,
  video: media,
  document: media,
  sticker: media,
  location,
  contacts,
  interactive,
  button,
  reaction,
  order,
  system,
  unsupported,
  unknown: unsupported,
};

/** " 30 USD" when every item has a numeric price in one currency, else "". */
function orderTotal(items: z.infer<typeof S.Order>["product_items"]): string {
  const currencies = new Set(items.map((i) => i.currency));
  let total = 0;
  for (const i of items) {
    const line = Number(i.quantity) * Number(i.item_price);
    if (!Number.isFinite(line)) return "";
    total += line;
  }
  const [currency] = currencies;
  return currencies.size === 1 && currency ? `, ${total} ${currency}` : "";
}

function issueOf(err: z.ZodError): string {
  const i = err.issues[0];
  return `${i.path.join(".") || "message"}: ${i.message}`;
}
