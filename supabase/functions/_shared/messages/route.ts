import { formatSms } from "../notifications/sms-format.ts";
import { templateParameter } from "../notifications/whatsapp-format.ts";
import type { OutboundMedia } from "../media/outbound.ts";
import { pgSafeText } from "../text/pg-safe.ts";

/** Every channel the API can name; a channel is used only once its adapter is registered. */
export const CHANNELS = ["whatsapp", "sms", "email", "messenger", "instagram"] as const;
export type Channel = (typeof CHANNELS)[number];

/** `auto` tries them in this order, the person's last active channel first. */
const AUTO_ORDER: readonly Channel[] = CHANNELS;

/** Which identity kind addresses each channel (profile_identity kinds; phone is profiles.phone_number). */
export const ADDRESS_KIND: Record<Channel, "phone" | "email" | "messenger" | "instagram"> = {
  whatsapp: "phone",
  sms: "phone",
  email: "email",
  messenger: "messenger",
  instagram: "instagram",
};

export interface Recipient {
  profileId: string;
  addresses: Partial<Record<"phone" | "email" | "messenger" | "instagram", string>>;
  hasWhatsapp: boolean | null;
  allowsWhatsapp: boolean;
  allowsSms: boolean;
  lastActiveChannel: string | null;
  whatsappWindowOpen: boolean;
}

export type Content =
  | { kind: "text"; text: string }
  | { kind: "template"; name: string; locale: string; params: string[] }
  | { kind: "media"; media: OutboundMedia };

/** A template as stored for one channel and locale (public.message_templates). */
export interface Template {
  channel: string;
  name: string;
  locale: string;
  status: string;
  bodyText: string | null;
  subject: string | null;
  paramCount: number;
}

/** One step of a route: what is written to the outbox for that channel. */
export interface Step {
  channel: Channel;
  recipient: string;
  /** text, template, or a WhatsApp media message's type (image, document, …). */
  message_type: string;
  body: string;
  metadata: Record<string, unknown>;
}

export interface Skipped {
  channel: Channel;
  code: string;
  reason: string;
}

export interface RouteInput {
  recipient: Recipient;
  channel: "auto" | Channel | Channel[];
  content: Content;
  /** Whether a sender is registered for the channel (outbound/senders.ts). */
  hasSender(channel: Channel): boolean;
  /** The stored template for a channel (already looked up for the content's name and locale). */
  template(channel: Channel): Template | null;
  /** The approved WhatsApp template that carries free text outside the 24-hour window. */
  whatsappTextTemplate?: { name: string; language: string };
}

/**
 * The channels a message is tried on, in order, each with its rendition, and why the others were
 * left out. `auto`: the person's last active channel first, then WhatsApp, SMS, email, Messenger,
 * Instagram; a channel is kept when a sender is registered for it, the person has an address
 * there and has not opted out, and the content can go there now (WhatsApp free text only inside
 * the 24-hour window, otherwise its template). A named list keeps its order with the same checks.
 */
export function planRoute(input: RouteInput): { steps: Step[]; skipped: Skipped[] } {
  const steps: Step[] = [];
  const skipped: Skipped[] = [];
  for (const channel of candidates(input)) {
    const step = stepFor(input, channel);
    if ("code" in step) skipped.push(step);
    else steps.push(step);
  }
  return { steps, skipped };
}

function candidates({ channel, recipient }: RouteInput): Channel[] {
  if (channel === "auto") {
    const last = CHANNELS.find((c) => c === recipient.lastActiveChannel);
    return [...new Set([...(last ? [last] : []), ...AUTO_ORDER])];
  }
  return [...new Set(Array.isArray(channel) ? channel : [channel])];
}

function stepFor(input: RouteInput, channel: Channel): Step | Skipped {
  const { recipient: r } = input;
  const skip = (code: string, reason: string): Skipped => ({ channel, code, reason });
  if (!input.hasSender(channel)) {
    return skip("CHANNEL.NOT_CONFIGURED", `No ${channel} sender is configured`);
  }
  const address = r.addresses[ADDRESS_KIND[channel]];
  if (!address) return skip("RECIPIENT.NO_ADDRESS", `The person has no ${channel} address`);
  if (channel === "sms" && !r.allowsSms) {
    return skip("SMS.OPTED_OUT", "The recipient opted out of SMS");
  }
  if (channel === "whatsapp") {
    if (!r.allowsWhatsapp) return skip("WHATSAPP.OPTED_OUT", "The recipient opted out of WhatsApp");
    if (r.hasWhatsapp === false) {
      return skip("WHATSAPP.NOT_ON_CHANNEL", "The recipient is known not to use WhatsApp");
    }
  }
  const rendered = render(input, channel);
  if ("code" in rendered) return skip(rendered.code, rendered.reason);
  return { channel, recipient: address, ...rendered };
}

type Rendition = Omit<Step, "channel" | "recipient">;

function render(
  input: RouteInput,
  channel: Channel,
): Rendition | { code: string; reason: string } {
  const { content } = input;
  if (content.kind === "template") return renderTemplate(input, channel, content);
  if (content.kind === "media") {
    const media = renderMedia(input, channel, content.media);
    if (media) return media;
  }
  const text = content.kind === "text"
    ? pgSafeText(content.text)
    : pgSafeText([content.media.caption, content.media.link].filter(Boolean).join("\n"));
  // A channel without media (SMS, WhatsApp outside the window) gets the caption and the link;
  // `metadata.media` stays on the row (Twilio sends it as MMS, senders.ts).
  const media = content.kind === "media" ? { media: content.media } : {};
  if (channel === "whatsapp" && !input.recipient.whatsappWindowOpen) {
    const t = input.whatsappTextTemplate;
    if (!t) {
      return {
        code: "WHATSAPP.WINDOW_CLOSED",
        reason: "Outside the 24-hour window and no template carries free text",
      };
    }
    return {
      message_type: "template",
      body: text,
      metadata: {
        ...media,
        template: { name: t.name, language: t.language, bodyParameters: [templateParameter(text)] },
      },
    };
  }
  const body = channel === "sms" ? formatSms(text, { maxSegments: 3 }).text : text;
  // An email needs a subject (metadata.email is what the email sender sends, senders.ts emailOf):
  // free text has none of its own, so its first line stands in.
  if (channel === "email") {
    return {
      message_type: "text",
      body,
      metadata: { ...media, email: { subject: firstLine(text) } },
    };
  }
  return { message_type: "text", body, metadata: media };
}

/**
 * A file as the channel carries it: a WhatsApp media message by link (inside the window), a
 * Messenger/Instagram attachment, an email attachment the provider fetches. Null where the
 * channel has no media of its own (SMS; WhatsApp outside the window): caption and link then.
 */
function renderMedia(
  input: RouteInput,
  channel: Channel,
  media: OutboundMedia,
): Rendition | null {
  const caption = media.caption ? pgSafeText(media.caption) : "";
  if (channel === "whatsapp") {
    if (!input.recipient.whatsappWindowOpen) return null;
    return { message_type: media.type, body: caption, metadata: { media } };
  }
  if (channel === "messenger" || channel === "instagram") {
    const type = media.type === "document"
      ? "file"
      : media.type === "sticker"
      ? "image"
      : media.type;
    return {
      message_type: "text",
      body: caption || media.filename || media.type,
      metadata: { media, meta_message: { kind: "attachment", type, url: media.link } },
    };
  }
  if (channel === "email") {
    const filename = media.filename ?? media.path?.split("/").pop() ?? `attachment.${media.type}`;
    return {
      message_type: "text",
      body: caption || filename,
      metadata: {
        media,
        email: {
          subject: firstLine(caption) || filename,
          attachments: [{ filename, path: media.link, contentType: media.mime }],
        },
      },
    };
  }
  return null;
}

/** The first non-blank line, within 78 characters (RFC 5322's recommended line length). */
function firstLine(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find(Boolean) ?? "";
  return line.length <= 78 ? line : `${line.slice(0, 77)}…`;
}

function renderTemplate(
  input: RouteInput,
  channel: Channel,
  content: Extract<Content, { kind: "template" }>,
): Rendition | { code: string; reason: string } {
  const t = input.template(channel);
  if (!t) {
    return {
      code: "TEMPLATE.NOT_FOUND",
      reason: `No ${channel} template ${content.name} (${content.locale})`,
    };
  }
  if (t.status !== "approved") {
    return {
      code: "TEMPLATE.NOT_APPROVED",
      reason: `The ${channel} template ${t.name} (${t.locale}) is ${t.status}`,
    };
  }
  const expected = Math.max(t.paramCount, placeholderCount(t.bodyText ?? ""));
  if (content.params.length !== expected) {
    return {
      code: "TEMPLATE.PARAMS_MISMATCH",
      reason:
        `The ${channel} template ${t.name} takes ${expected} parameters, ${content.params.length} given`,
    };
  }
  const body = fillPlaceholders(t.bodyText ?? "", content.params);
  const template = { name: t.name, language: t.locale, bodyParameters: content.params };
  if (channel === "whatsapp") {
    return { message_type: "template", body, metadata: { template } };
  }
  const text = channel === "sms" ? formatSms(body, { maxSegments: 3 }).text : body;
  const subject = t.subject ? fillPlaceholders(t.subject, content.params) : null;
  return {
    message_type: "text",
    body: text,
    metadata: {
      template: { name: t.name, locale: t.locale },
      ...(t.subject ? { subject: t.subject } : {}),
      ...(channel === "email" ? { email: { subject: subject ?? firstLine(text) } } : {}),
    },
  };
}

/** `{{1}}`, `{{2}}`… replaced by the parameters, in order (WhatsApp's placeholder syntax). */
export function fillPlaceholders(text: string, params: string[]): string {
  return text.replace(/\{\{\s*(\d+)\s*\}\}/g, (m, n) => params[Number(n) - 1] ?? m);
}

/** The highest `{{n}}` in a template's text: how many parameters it takes. */
export function placeholderCount(text: string): number {
  let max = 0;
  for (const m of text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}
