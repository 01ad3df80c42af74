import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { createTickBatcher, ItemFailure, type TickBatcher } from "./tick-batch.ts";
import {
  type InboundMessage,
  type RecordedInbound,
  recordInbound,
} from "../conversations/record-inbound.ts";

/**
 * recordInbound for webhooks under load: the messages of the requests that arrive in the same
 * event-loop turn are recorded by one statement (public.record_inbound_messages) and one commit,
 * instead of one transaction each. Each caller's promise settles only after that commit, with
 * its own message's outcome, exactly as recordInbound's would.
 *
 * A batch that fails because the database is unavailable fails every request in it (each
 * answers 503 and the provider redelivers; recording is idempotent). Any other failure is one
 * bad message spoiling the batch, so its messages are recorded again one by one and only that
 * message's request fails.
 */
const batchers = new WeakMap<Sql, TickBatcher<InboundMessage, RecordedInbound>>();

export function recordInboundBatched(sql: Sql, message: InboundMessage): Promise<RecordedInbound> {
  let batcher = batchers.get(sql);
  if (!batcher) {
    batcher = createTickBatcher((messages) => recordBatch(sql, messages));
    batchers.set(sql, batcher);
  }
  return batcher.add(message);
}

async function recordBatch(
  sql: Sql,
  messages: InboundMessage[],
): Promise<(RecordedInbound | ItemFailure)[]> {
  if (messages.length === 1) return [await recordInbound(sql, messages[0])];
  let rows;
  try {
    rows = await rpc(sql, "record_inbound_messages", { p_messages: messages.map(asJson) });
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err;
    // One bad message spoiled the batch: record each alone so only its own request fails.
    return await Promise.all(
      messages.map((m) => recordInbound(sql, m).catch((e) => new ItemFailure(e))),
    );
  }
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
