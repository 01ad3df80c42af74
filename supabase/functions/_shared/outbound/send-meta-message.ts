import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import type { MetaMessage } from "../channels/meta.ts";
import type { MetaChannel } from "../notifications/meta-format.ts";
import { pgSafeText } from "../text/pg-safe.ts";
import { type OutboundDeps, senderFor, sendPaced } from "./send.ts";
import { reportSend, type SendMessageResult } from "./send-message.ts";

export interface SendMetaMessageInput {
  channel: MetaChannel;
  /** The PSID (Messenger) or IGSID (Instagram). */
  to: string;
  /** The text; with `message`, what the row shows of it (and what an SMS fallback says). */
  body: string;
  /** Quick replies, an attachment or a template instead of plain text. */
  message?: MetaMessage;
  sessionId?: string | null;
  purpose: string;
  correlationId: string;
  idempotencyKey?: string;
  senderKey?: string;
}

/**
 * One message to a person on Messenger or Instagram, logged (queued) before Meta is called and
 * updated with the outcome, like sendMessage. The row remembers when the person last wrote on
 * the channel; its sender turns that into RESPONSE, the HUMAN_AGENT tag, or a window_closed
 * refusal without any call (then the SMS fallback the row carries, if the person has a phone).
 */
export async function sendMetaMessage(
  deps: OutboundDeps,
  input: SendMetaMessageInput,
): Promise<SendMessageResult> {
  const body = pgSafeText(input.body);
  const [row] = await rpc(deps.sql, "begin_meta_outbound_message", {
    p_channel: input.channel,
    p_recipient: input.to,
    p_body: body,
    p_session_id: input.sessionId ?? undefined,
    p_purpose: input.purpose,
    p_correlation_id: input.correlationId,
    p_idempotency_key: input.idempotencyKey,
    p_message_type: input.message && input.message.kind !== "text" ? input.message.kind : "text",
    p_metadata: (input.message ? { meta_message: input.message } : {}) as Json,
  });
  const log = deps.logger.child({
    correlation_id: input.correlationId,
    delivery_id: row.delivery_id,
  });
  const base = { deliveryId: row.delivery_id, channel: input.channel };
  if (!row.is_new) return { ...base, status: row.status as SendMessageResult["status"] };

  const sender = senderFor(deps, input.channel, input.senderKey);
  const metadata = {
    last_inbound_at: row.last_inbound_at,
    ...(input.message ? { meta_message: input.message } : {}),
  };
  const sent = await sendPaced(deps, {
    sender,
    row: {
      id: row.delivery_id,
      channel: input.channel,
      recipient: input.to,
      body,
      message_type: "text",
      metadata,
      sender_key: null,
    },
  }, { body });
  if (!sent) {
    log.info("MESSAGE_DEFERRED_BY_PACING", { sender_key: sender.key });
    return { ...base, status: "queued", nextAttemptAt: new Date().toISOString() };
  }
  return reportSend(log, input, base, sent.result, sent.outcome);
}
