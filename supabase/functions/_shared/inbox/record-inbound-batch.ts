import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import { batchedPerPool } from "./tick-batch.ts";
import {
  type InboundMessage,
  type RecordedInbound,
  recordInbound,
} from "../conversations/record-inbound.ts";

/**
 * recordInbound for webhooks under load: the messages of the requests that arrive in the same
 * event-loop turn are recorded by one statement (public.record_inbound_messages) and one commit,
 * instead of one transaction each. Each caller's promise settles only after that commit, with
 * its own message's outcome, exactly as recordInbound's would (failures: batchedPerPool).
 */
export const recordInboundBatched: (sql: Sql, message: InboundMessage) => Promise<RecordedInbound> =
  batchedPerPool(recordInbound, recordMany);

async function recordMany(sql: Sql, messages: InboundMessage[]): Promise<RecordedInbound[]> {
  const rows = await rpc(sql, "record_inbound_messages", { p_messages: messages.map(asJson) });
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

function asJson(m: InboundMessage): Json {
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
