import { recordOutcome } from "../outbound/outcome.ts";
import { type OutboundDeps, senderFor, sendEvent, sendPaced } from "../outbound/send.ts";
import type { SmsProvider } from "./types.ts";

/**
 * The answer a keyword owes, already logged as a queued outbound row by record_sms_keyword. It
 * does not go through sendMessage, which would block the STOP confirmation (the person has just
 * opted out, and this confirmation is the one SMS they may still get): it bypasses the opt-out
 * check only, and is paced and recorded like every other send.
 */
export interface KeywordReply {
  deliveryId: string;
  to: string;
  body: string;
  correlationId: string;
  /** The provider the keyword came through, and the number it was sent to: the reply's sender. */
  via: { provider: SmsProvider; to?: string | null };
}

/** Sends it through the sender the keyword was written to, paced, and records the outcome. */
export async function sendKeywordReply(deps: OutboundDeps, reply: KeywordReply): Promise<void> {
  const sender = senderFor(deps, "sms", deps.senders.replyKey(reply.via.provider, reply.via.to));
  const row = {
    id: reply.deliveryId,
    channel: "sms",
    recipient: reply.to,
    body: reply.body,
    message_type: "text",
    metadata: null,
    sender_key: null,
  };
  const log = deps.logger.child({
    correlation_id: reply.correlationId,
    delivery_id: reply.deliveryId,
  });
  const sent = await sendPaced(deps, { sender, row }, { body: reply.body });
  if (!sent) {
    return log.info("MESSAGE_DEFERRED_BY_PACING", {
      purpose: "keyword_reply",
      sender_key: sender.key,
    });
  }
  const { result, outcome } = sent;
  if (result.ok) {
    log.info(sendEvent("sms", outcome.status), {
      purpose: "keyword_reply",
      provider_message_id: result.providerMessageId,
    });
  } else {
    log.warn(sendEvent("sms", outcome.status), {
      purpose: "keyword_reply",
      error_code: result.error.code,
      error_class: result.error.class,
    });
  }
}

/**
 * Twilio sends it itself, from the TwiML `<Message>` the webhook answers with, from the number
 * the keyword was sent to; Twilio assigns that message's SID, which this request never sees. It
 * takes that sender's token (Twilio's own queue paces it, our bucket must still count it).
 */
export async function recordTwimlReply(deps: OutboundDeps, reply: KeywordReply): Promise<void> {
  const sender = senderFor(deps, "sms", deps.senders.replyKey("twilio", reply.via.to));
  await deps.pacer.take(sender, 1);
  await recordOutcome(deps.sql, reply.deliveryId, {
    ok: true,
    provider: "twilio",
    providerMessageId: "",
  }, {
    body: reply.body,
    senderKey: sender.key,
  });
}
