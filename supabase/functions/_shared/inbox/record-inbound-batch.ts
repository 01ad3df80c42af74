import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import { batchedPerPool } from "../db/tick-batch.ts";
import {
  type InboundMessage,
  type RecordedInbound,
  recordInbound,
} from "../conversations/record-inbound.ts";

/** What a webhook knows once its message is durably accepted into the inbox. */
export interface AcceptedInbound {
  /** The inbox row (null only when a concurrent copy was accepted in the same instant). */
  inboxId: string | null;
  /** False when this provider message id was already accepted (a redelivered webhook). */
  isNew: boolean;
}

/**
 * THE inbound pipeline for every channel webhook: durably accepts one parsed message into
 * public.inbound_inbox (unique on the provider's message id) and resolves once that is
 * committed; the webhook answers 2xx after it. The messages of the requests that arrive in the
 * same event-loop turn go in one statement and one commit (failures: batchedPerPool).
 *
 * Profiles, sessions and the message row are derived afterwards by the inbox worker
 * (inbox/process-inbox.ts, run by the agent-worker function, which the webhook kicks after its
 * commit with `kickAfterAccept`; dispatch is the safety net), which then writes the AI replies.
 */
export const acceptInboundBatched: (sql: Sql, message: InboundMessage) => Promise<AcceptedInbound> =
  batchedPerPool(
    async (sql, m) => (await acceptMany(sql, [m]))[0],
    acceptMany,
  );

async function acceptMany(sql: Sql, messages: InboundMessage[]): Promise<AcceptedInbound[]> {
  const rows = await rpc(sql, "accept_inbound_messages", { p_messages: messages.map(inboxJson) });
  const out: AcceptedInbound[] = [];
  for (const r of rows) {
    out[Number(r.ordinal) - 1] = {
      inboxId: r.inbox_id === null ? null : String(r.inbox_id),
      isNew: r.is_new,
    };
  }
  return out;
}

/** An inbound message as public.record_inbound_messages takes it (the inbox keeps it as is). */
export function inboxJson(m: InboundMessage): Json {
  return {
    channel: m.channel,
    sender: m.sender,
    sender_kind: m.senderKind ?? "phone",
    provider: m.provider,
    provider_message_id: m.providerMessageId,
    message_type: m.messageType,
    body: m.body,
    metadata: (m.metadata ?? {}) as Json,
    correlation_id: m.correlationId,
    whatsapp_jid: m.whatsappJid ?? null,
    needs_reply: m.needsReply ?? true,
    display_name: m.displayName ?? null,
  };
}

/**
 * Direct recording, for the webhooks whose follow-up work needs the message's rows before their
 * 200: Messenger/Instagram (a shared phone number or email is linked to the person's profile),
 * email (the thread's headers), and WhatsApp messages bound for Genesys agents (forwarded with
 * their row ids). Grouped per event-loop turn like acceptInboundBatched, but the profile,
 * session and message row are written in the same statement (public.record_inbound_messages),
 * so it costs what the inbox saves; every other inbound message goes through the inbox.
 */
export const recordInboundBatched: (sql: Sql, message: InboundMessage) => Promise<RecordedInbound> =
  batchedPerPool(recordInbound, recordMany);

async function recordMany(sql: Sql, messages: InboundMessage[]): Promise<RecordedInbound[]> {
  const rows = await rpc(sql, "record_inbound_messages", { p_messages: messages.map(inboxJson) });
  const out: RecordedInbound[] = [];
  for (const r of rows) {
    out[Number(r.ordinal) - 1] = {
      deliveryId: r.delivery_id,
      sessionId: r.session_id,
      profileId: r.profile_id,
      isNew: r.is_new,
      allowsSms: r.allows_sms,
    };
  }
  return out;
}
