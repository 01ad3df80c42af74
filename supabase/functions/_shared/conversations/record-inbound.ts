import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { JsonObject } from "../types/json.ts";

export type InboundChannel = "whatsapp" | "sms" | "messenger" | "instagram" | "email";

/**
 * What the sender id is: a phone number (SMS, WhatsApp), a Messenger PSID, an Instagram IGSID or
 * an email address. Every kind resolves to one profile (public.profile_identities), so a person's
 * session spans the channels they use.
 */
export type SenderKind = "phone" | "messenger" | "instagram" | "email";

/** One message a person sent us, as every webhook hands it over after parsing. */
export interface InboundMessage {
  channel: InboundChannel;
  /** E.164 for phone channels; the page-scoped id for Messenger/Instagram; the email address. */
  sender: string;
  /**
   * How `sender` identifies the person; "phone" when omitted. The inbox carries it through to
   * public.record_inbound_messages, which resolves the sender's profile by it.
   */
  senderKind?: SenderKind;
  provider: string;
  providerMessageId: string;
  /** text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction, unsupported */
  messageType: string;
  /** What the AI reads: the text, a caption, or a short description ("[image: image/jpeg]"). */
  body: string | null;
  /** Media ids and mime types, context (reply-to), referral, location, raw type-specific fields. */
  metadata?: JsonObject;
  correlationId: string;
  whatsappJid?: string;
  displayName?: string;
  /** False for messages that must not get an AI reply (keywords, reactions). */
  needsReply?: boolean;
}

export interface RecordedInbound {
  deliveryId: string;
  sessionId: string;
  profileId: string;
  /** False when this provider message id was already recorded (a redelivered webhook). */
  isNew: boolean;
  allowsSms: boolean;
}

/**
 * Durably records one inbound message (one round trip): idempotent on the provider's message id,
 * profile upserted, session got or created and extended. A webhook answers 2xx only after this.
 */
export async function recordInbound(sql: Sql, m: InboundMessage): Promise<RecordedInbound> {
  const [r] = await rpc(sql, "record_inbound_message", {
    p_channel: m.channel,
    p_sender: m.sender,
    p_provider: m.provider,
    p_provider_message_id: m.providerMessageId,
    p_message_type: m.messageType,
    p_body: m.body ?? undefined,
    p_metadata: (m.metadata ?? {}) as never,
    p_correlation_id: m.correlationId,
    p_whatsapp_jid: m.whatsappJid ?? undefined,
    p_needs_reply: m.needsReply ?? true,
    p_display_name: m.displayName ?? undefined,
    p_sender_kind: m.senderKind ?? "phone",
  });
  return {
    deliveryId: r.delivery_id,
    sessionId: r.session_id,
    profileId: r.profile_id,
    isNew: r.is_new,
    allowsSms: r.allows_sms,
  };
}
