import type { ChatMessage } from "./chat-completions.ts";
import type { Channel } from "../session/omnichannel-session.ts";
import type { JsonObject } from "../types/json.ts";

/**
 * How the agent lays out what it knows for the model. Two conventions other code relies on
 * (the sandbox's scripted model reads them, scripts/sandbox/scripted-model.ts):
 * - one system message starts with SESSION_CONTEXT_PREFIX followed, on the same line, by a JSON
 *   object {session_id, phone_number, channel, status, context, ...};
 * - a person's messages carry their channel as a leading tag: "[WhatsApp] hello".
 */

export const SESSION_CONTEXT_PREFIX = "Session context (JSON): ";

export const CHANNEL_LABELS: Record<Channel, string> = {
  voice: "Voice call",
  whatsapp: "WhatsApp",
  sms: "SMS",
  messenger: "Messenger",
  instagram: "Instagram",
  email: "Email",
};

export interface SessionSnapshot {
  sessionId: string;
  phoneNumber: string;
  displayName: string | null;
  status: string;
  context: JsonObject;
  channelsSeen: Channel[];
}

export interface HistoryEntry {
  channel: Channel;
  direction: "inbound" | "outbound";
  body: string;
}

const CHANNEL_STYLE: Record<ReplyChannel, string> = {
  email: "You are replying by email, in the thread the person wrote in: plain text, a greeting " +
    "and a few short paragraphs; no subject line (the reply keeps theirs).",
  messenger:
    "You are replying on Facebook Messenger: plain text only (no markdown), short and warm, " +
    "under 2000 characters.",
  instagram: "You are replying in an Instagram direct message: plain text only (no markdown), " +
    "short and friendly, under 1000 characters.",
  whatsapp:
    "You are replying on WhatsApp: short and warm; *single asterisks* for bold, no headings or tables.",
  sms: "You are replying by SMS: plain text only (no markdown, no emoji), under 300 characters; " +
    "anything longer is cut to 3 SMS.",
};

/** The session, the channel and how to write for it, as one system message. */
/** The channels an AI reply goes out on. */
export type ReplyChannel = "whatsapp" | "sms" | "messenger" | "instagram" | "email";

export function sessionContextMessage(s: SessionSnapshot, channel: ReplyChannel): string {
  const facts = {
    session_id: s.sessionId,
    phone_number: s.phoneNumber,
    ...(s.displayName ? { name: s.displayName } : {}),
    channel,
    status: s.status,
    channels_seen: s.channelsSeen,
    context: s.context,
  };
  return [
    `${SESSION_CONTEXT_PREFIX}${JSON.stringify(facts)}`,
    "The session is already open and its context is above: you do not need session_get_or_create " +
    "or session_get_context for this turn. Use this session_id with the session tools.",
    CHANNEL_STYLE[channel],
    "Earlier messages below are from every channel; the person's carry their channel in brackets.",
  ].join("\n");
}

export const channelTag = (channel: Channel) => `[${CHANNEL_LABELS[channel]}] `;

/** The conversation so far as chat messages: the person's as user, ours as assistant. */
export function historyMessages(entries: HistoryEntry[]): ChatMessage[] {
  return entries.map((e) =>
    e.direction === "inbound"
      ? { role: "user", content: channelTag(e.channel) + e.body }
      : { role: "assistant", content: e.body }
  );
}
