import type { Logger } from "../log/logger.ts";
import type { OutboundDeps } from "../outbound/send.ts";
import type { WaitUntil } from "../platform/background.ts";
import type { RecordedInbound } from "../conversations/record-inbound.ts";
import { acceptInboundBatched } from "../inbox/record-inbound-batch.ts";
import { KEYWORD_REPLIES, type KeywordAction, smsKeywordOf } from "./keywords.ts";
import { recordTwimlReply, sendKeywordReply } from "./keyword-reply.ts";
import { smsSenderToE164 } from "../phone.ts";
import { recordSmsKeyword } from "./record-keyword.ts";
import type { InboundSms } from "./types.ts";
import type { InboundForReply } from "../conversations/reply-to-inbound.ts";

/** Sends keyword answers for gateways that cannot answer inline (the MTN-style one). */
export interface InboundSmsDeps extends OutboundDeps {
  /** Reads national sender numbers. */
  defaultCountry: string;
  waitUntil: WaitUntil;
  /**
   * After a message was accepted into the inbox (the webhook has answered): the agent-worker
   * derives it and writes its reply (agent-worker/kick.ts, afterAccept).
   */
  onAccepted: () => Promise<void>;
  /**
   * The AI reply of a keyword-like SMS that applied no keyword (recorded directly with the
   * keyword check), run after the webhook answered.
   */
  onInbound: (recorded: InboundForReply<"sms">) => Promise<void>;
}

export interface InboundSmsOutcome {
  result: "recorded" | "duplicate" | "ignored";
  keyword?: KeywordAction;
  /** The keyword answer to return inline (Twilio's TwiML `<Message>`). */
  inlineReply?: string;
}

/**
 * One SMS a person sent, after its signature was checked: a keyword (STOP / START / HELP) is
 * recorded and applied at once, no AI; any other message is accepted into the inbox (once per
 * provider message id, grouped with the concurrent requests' into one statement), and the
 * agent-worker derives its profile, session and row and writes its AI reply, off this request. With `replyInline` (Twilio) a keyword's answer comes back to
 * be put in the webhook's response; otherwise it is sent with the SMS adapter in the background.
 */
export async function handleInboundSms(
  deps: InboundSmsDeps,
  sms: InboundSms,
  opts: { correlationId: string; replyInline: boolean },
): Promise<InboundSmsOutcome> {
  const { correlationId } = opts;
  const log = deps.logger.child({
    correlation_id: correlationId,
    provider: sms.provider,
    provider_message_id: sms.providerMessageId,
  });
  const sender = smsSenderToE164(sms.from, deps.defaultCountry);
  if (!sender) {
    // Network notices from alphanumeric senders; retrying would not make them a person.
    log.warn("SMS_INBOUND_IGNORED", { reason: "the sender is not a phone number" });
    return { result: "ignored" };
  }
  const message = {
    sender,
    provider: sms.provider,
    providerMessageId: sms.providerMessageId,
    body: sms.body,
    metadata: sms.metadata,
    correlationId,
  };

  const keyword = smsKeywordOf(sms.body);
  if (keyword) {
    const replyBody = KEYWORD_REPLIES[keyword.action];
    const r = await recordSmsKeyword(deps.sql, { ...message, ...keyword, replyBody });
    if (!r.isNew) return duplicate(log);
    if (!r.keywordApplied) return conversation(deps, log, forReply(r, sender, correlationId));

    log.info("SMS_KEYWORD_APPLIED", {
      keyword: keyword.action,
      changed: r.changed,
      allows_sms: r.allowsSms,
      delivery_id: r.deliveryId,
    });
    const outcome: InboundSmsOutcome = { result: "recorded", keyword: keyword.action };
    if (!r.reply) return outcome;
    const via = {
      provider: sms.provider,
      to: typeof sms.metadata.to === "string" ? sms.metadata.to : null,
    };
    const reply = {
      deliveryId: r.reply.deliveryId,
      to: sender,
      body: replyBody,
      correlationId,
      via,
    };
    if (r.reply.status === "blocked") {
      log.info("SMS_MESSAGE_BLOCKED", { purpose: "keyword_reply", delivery_id: reply.deliveryId });
      return outcome;
    }
    if (opts.replyInline) {
      await recordTwimlReply(deps, reply);
      log.info("SMS_MESSAGE_SENT", {
        purpose: "keyword_reply",
        via: "twiml",
        delivery_id: reply.deliveryId,
      });
      return { ...outcome, inlineReply: replyBody };
    }
    deps.waitUntil(
      sendKeywordReply(deps, reply).catch((err) =>
        log.error("SMS_KEYWORD_REPLY_ERROR", errorFields(err))
      ),
    );
    return outcome;
  }

  // An empty SMS (no text, no media) is kept in the history but asks nothing.
  const needsReply = sms.body.trim() !== "";
  const accepted = await acceptInboundBatched(deps.sql, {
    ...message,
    channel: "sms",
    messageType: sms.messageType,
    needsReply,
  });
  if (!accepted.isNew) return duplicate(log);
  log.info("SMS_INBOUND_RECEIVED", { inbox_id: accepted.inboxId, needs_reply: needsReply });
  deps.waitUntil(
    deps.onAccepted().catch((err) => log.error("SMS_INBOUND_REPLY_ERROR", errorFields(err))),
  );
  return { result: "recorded" };
}

function duplicate(log: Logger): InboundSmsOutcome {
  log.info("SMS_INBOUND_DUPLICATE");
  return { result: "duplicate" };
}

function forReply(
  r: RecordedInbound,
  sender: string,
  correlationId: string,
): InboundForReply<"sms"> {
  const { deliveryId, sessionId, profileId, isNew, allowsSms } = r;
  return {
    deliveryId,
    sessionId,
    profileId,
    isNew,
    allowsSms,
    channel: "sms",
    sender,
    correlationId,
  };
}

function conversation(
  deps: InboundSmsDeps,
  log: Logger,
  recorded: InboundForReply<"sms">,
): InboundSmsOutcome {
  log.info("SMS_INBOUND_RECEIVED", {
    delivery_id: recorded.deliveryId,
    session_id: recorded.sessionId,
    needs_reply: true,
  });
  deps.waitUntil(
    deps.onInbound(recorded)
      .catch((err) => log.error("SMS_INBOUND_REPLY_ERROR", errorFields(err))),
  );
  return { result: "recorded" };
}

function errorFields(err: unknown): Record<string, unknown> {
  return {
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  };
}
