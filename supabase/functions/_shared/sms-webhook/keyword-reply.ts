import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import type { ChannelFailure, SendResult } from "../outbound/adapter.ts";
import type { SmsSender } from "../outbound/dual-channel.ts";
import { recordOutcome as recordSendOutcome } from "../outbound/outcome.ts";

/**
 * The answer a keyword owes, already logged as a queued outbound row by record_sms_keyword. It
 * does not go through sendMessage, which would block the STOP confirmation (the person has just
 * opted out, and this confirmation is the one SMS they may still get).
 */
export interface KeywordReply {
  deliveryId: string;
  to: string;
  body: string;
  correlationId: string;
}

/** Sends it with the SMS adapter and records the outcome on its row. */
export async function sendKeywordReply(
  deps: { sql: Sql; sms: SmsSender; logger: Logger },
  reply: KeywordReply,
): Promise<SendResult> {
  const result = await deps.sms.send(reply.to, reply.body, {
    correlationId: reply.correlationId,
    deliveryId: reply.deliveryId,
  });
  // The shared path: a failed write is retried, then parked, never followed by a second send.
  await recordSendOutcome(deps.sql, reply.deliveryId, result, { body: reply.body });
  const log = deps.logger.child({ correlation_id: reply.correlationId, delivery_id: reply.deliveryId });
  if (result.ok) {
    log.info("SMS_MESSAGE_SENT", { purpose: "keyword_reply", provider_message_id: result.providerMessageId });
  } else {
    log.warn("SMS_MESSAGE_FAILED", {
      purpose: "keyword_reply",
      error_code: result.error.code,
      error_class: result.error.class,
    });
  }
  return result;
}

/**
 * Twilio sends it itself, from the TwiML `<Message>` the webhook answers with; Twilio assigns
 * that message's SID, which this request never sees.
 */
export async function recordTwimlReply(sql: Sql, reply: KeywordReply): Promise<void> {
  await recordOutcome(sql, reply, { ok: true, provider: "twilio" });
}

interface Outcome {
  ok: boolean;
  provider: string;
  providerMessageId?: string;
  error?: ChannelFailure;
}

async function recordOutcome(sql: Sql, reply: KeywordReply, o: Outcome): Promise<void> {
  await sql`select public.record_outbound_outcome(
    ${reply.deliveryId}, ${o.ok}, ${o.provider}, ${o.providerMessageId ?? null}, ${reply.body}, 'text',
    ${o.error?.code ?? null}, ${o.error?.class ?? null}, ${o.error?.message ?? null}, false)`;
}
