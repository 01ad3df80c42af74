import type { Sql } from "../db/client.ts";
import type { JsonObject } from "../session/omnichannel-session.ts";

export type InboundChannel = "whatsapp" | "sms" | "messenger" | "instagram";

/** One message a person sent us, as every webhook hands it over after parsing. */
export interface InboundMessage {
  channel: InboundChannel;
  /** E.164 for phone channels; the page-scoped id for Messenger/Instagram. */
  sender: string;
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
  const [r] = await sql`
    select * from public.record_inbound_message(
      ${m.channel}, ${m.sender}, ${m.provider}, ${m.providerMessageId}, ${m.messageType},
      ${m.body}, ${sql.json((m.metadata ?? {}) as never)}, ${m.correlationId},
      ${m.whatsappJid ?? null}, ${m.needsReply ?? true}, ${m.displayName ?? null})`;
  return {
    deliveryId: r.delivery_id,
    sessionId: r.session_id,
    profileId: r.profile_id,
    isNew: r.is_new,
    allowsSms: r.allows_sms,
  };
}
