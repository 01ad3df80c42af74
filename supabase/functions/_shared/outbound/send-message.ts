import { rpc } from "../db/rpc.ts";
import { formatSms } from "../notifications/sms-format.ts";
import { templateParameter } from "../notifications/whatsapp-format.ts";
import { pgSafeText } from "../text/pg-safe.ts";
import { planRow, planWhatsApp, refusal } from "./dual-channel.ts";
import type { SendResult } from "./adapter.ts";
import type { Logger } from "../log/logger.ts";
import { type RecordedOutcome, recordOutcome } from "./outcome.ts";
import { sendMetaMessage } from "./send-meta-message.ts";
import { type OutboundDeps, senderFor, sendEvent, sendPaced } from "./send.ts";
import type { OutboxRow, SendChannel, Sender } from "./senders.ts";
import type { TokenReservation } from "./pacing.ts";
import type { OutboundMedia } from "../media/outbound.ts";

export type SendMessageDeps = OutboundDeps;

export interface SendMessageInput {
  channel: SendChannel;
  /** E.164; Messenger/Instagram: the person's page-scoped id. */
  to: string;
  body: string;
  sessionId?: string | null;
  /** ai_reply, tool, keyword_reply, ... */
  purpose: string;
  correlationId: string;
  /** The same key twice sends once. */
  idempotencyKey?: string;
  /** The sender to use (a reply goes back through the one written to); unset: the channel's default. */
  senderKey?: string;
  /**
   * The inbound message this answers (its delivery id), whose reply claim is completed with the
   * row (begin_outbound_message): from then on the outbox owns the reply. WhatsApp and SMS only;
   * `completedInbound` in the result says whether it was done.
   */
  completesInbound?: string;
  /**
   * WhatsApp only: a file sent by link (media/outbound.ts staged it); `body` is its caption. It
   * is free-form, so only inside the 24-hour window: outside it the row fails as window_closed.
   */
  media?: OutboundMedia;
}

export interface SendMessageResult {
  deliveryId: string;
  channel: SendChannel;
  status: "sent" | "failed" | "blocked" | "skipped" | "queued" | "unknown" | "delivered" | "read";
  providerMessageId?: string;
  error?: { code: string; class: string; message: string };
  /** Queued for another attempt (a retryable failure, or no pacing token yet): when. */
  nextAttemptAt?: string;
  /** The claim of `completesInbound` was completed with the row. */
  completedInbound?: boolean;
}

/** The session given is not the recipient's (begin_outbound_message refused it, SQLSTATE OM403). */
export class SessionNotRecipient extends Error {
  readonly code = "SESSION.NOT_RECIPIENT";
  constructor(readonly sessionId: string) {
    super(`Session ${sessionId} does not belong to the recipient`);
    this.name = "SessionNotRecipient";
  }
}

type BeginRow = Awaited<ReturnType<typeof begin>>;

/**
 * One message on one channel, for AI replies and tools: logged (queued) before the provider is
 * called, then updated with the outcome. Nothing goes to a person who opted out of the channel
 * (the row is `blocked`); SMS is plain text within 3 segments; WhatsApp uses free text inside the 24-hour window
 * and the approved template outside it.
 */
export async function sendMessage(
  deps: SendMessageDeps,
  input: SendMessageInput,
): Promise<SendMessageResult> {
  if (input.channel === "messenger" || input.channel === "instagram") {
    return sendMetaMessage(deps, { ...input, channel: input.channel });
  }
  // Safe for Postgres before anything is sent: an outcome that cannot be stored must not follow
  // a provider's acceptance (AI replies and tool messages are input too).
  const text = pgSafeText(input.body);
  const body = input.channel === "sms" ? formatSms(text, { maxSegments: 3 }).text : text;
  // The sender's pacing token is leased in the row's own statement when this isolate holds none.
  const known = deps.senders.resolve(input.channel, input.senderKey);
  const reserved = known ? deps.pacer.reserve?.([known]) : undefined;
  try {
    const row = await begin(deps, input, body, reserved);
    reserved?.settle([row]);
    const log = deps.logger.child({
      correlation_id: input.correlationId,
      delivery_id: row.delivery_id,
    });
    const base = {
      deliveryId: row.delivery_id,
      channel: input.channel,
      ...(input.completesInbound ? { completedInbound: true } : {}),
    };
    return await sendBegun(deps, input, body, row, base, log, { sender: known, reserved });
  } finally {
    // A token held for a row that sent nothing goes back to this isolate's stock.
    if (known) reserved?.release(known.key);
  }
}

/** The begun row sent (or not: blocked, sent before, refused, deferred by pacing). */
async function sendBegun(
  deps: SendMessageDeps,
  input: SendMessageInput,
  body: string,
  row: BeginRow,
  base: Pick<SendMessageResult, "deliveryId" | "channel" | "completedInbound">,
  log: Logger,
  pacing: { sender: Sender | null | undefined; reserved: TokenReservation | undefined },
): Promise<SendMessageResult> {
  if (row.status === "blocked") {
    const name = input.channel === "sms" ? "SMS" : "WhatsApp";
    log.info(`${input.channel.toUpperCase()}_MESSAGE_BLOCKED`, { purpose: input.purpose });
    return {
      ...base,
      status: "blocked",
      error: {
        code: `${input.channel.toUpperCase()}.OPTED_OUT`,
        class: "permanent",
        message: `The recipient opted out of ${name}`,
      },
    };
  }
  if (!row.is_new) return { ...base, status: row.status as SendMessageResult["status"] };

  const planned = outgoing(deps, input, body, row);
  if ("refused" in planned) {
    const outcome = await recordOutcome(deps.sql, row.delivery_id, planned.refused, { body });
    return reportSend(log, input, base, planned.refused, outcome);
  }
  // Resolved before the row was begun; senderFor says why when there is none.
  const sender = pacing.sender ?? senderFor(deps, input.channel, input.senderKey);
  const { row: message } = planned;
  const sent = await sendPaced(deps, { sender, row: message }, {
    body: message.body,
    messageType: message.message_type,
    metadata: message.metadata ?? undefined,
  }, pacing.reserved);
  if (!sent) {
    log.info("MESSAGE_DEFERRED_BY_PACING", { sender_key: sender.key });
    return { ...base, status: "queued", nextAttemptAt: new Date().toISOString() };
  }
  return reportSend(log, input, base, sent.result, sent.outcome);
}

/** A send's outcome logged under its channel's event name and returned as a SendMessageResult. */
export function reportSend(
  log: Logger,
  input: { channel: string; purpose: string },
  base: Pick<SendMessageResult, "deliveryId" | "channel">,
  result: SendResult,
  outcome: RecordedOutcome,
): SendMessageResult {
  if (result.ok) {
    log.info(sendEvent(input.channel, outcome.status), {
      purpose: input.purpose,
      provider_message_id: result.providerMessageId,
    });
    return { ...base, status: "sent", providerMessageId: result.providerMessageId };
  }
  log.warn(sendEvent(input.channel, outcome.status), {
    purpose: input.purpose,
    error_code: result.error.code,
    error_class: result.error.class,
    ...(outcome.fallbackId ? { fallback_id: outcome.fallbackId } : {}),
  });
  return {
    ...base,
    status: outcome.status,
    error: { code: result.error.code, class: result.error.class, message: result.error.message },
    ...(outcome.nextAttemptAt ? { nextAttemptAt: outcome.nextAttemptAt.toISOString() } : {}),
  };
}

async function begin(
  deps: SendMessageDeps,
  input: SendMessageInput,
  body: string,
  reserved: TokenReservation | undefined,
) {
  try {
    const [row] = await rpc(deps.sql, "begin_outbound_message", {
      p_channel: input.channel,
      p_recipient: input.to,
      p_body: body,
      p_session_id: input.sessionId ?? undefined,
      p_purpose: input.purpose,
      p_correlation_id: input.correlationId,
      p_idempotency_key: input.idempotencyKey,
      p_message_type: input.media?.type ?? "text",
      p_metadata: input.media ? { media: { ...input.media } } : undefined,
      p_tokens: reserved?.ask.length ? reserved.ask : undefined,
      p_completes_inbound: input.completesInbound,
    });
    return row;
  } catch (err) {
    if ((err as { code?: unknown })?.code === "OM403") {
      throw new SessionNotRecipient(input.sessionId ?? "");
    }
    throw err;
  }
}

/**
 * The row as its sender sends it. WhatsApp follows the one plan (free text inside the window,
 * the template outside, nothing where it cannot go); a plan that cannot be sent still goes to
 * the sender, whose refusal is recorded like a provider's.
 */
function outgoing(
  deps: SendMessageDeps,
  input: SendMessageInput,
  body: string,
  row: BeginRow,
): { row: OutboxRow } | { refused: SendResult } {
  const base = {
    id: row.delivery_id,
    channel: input.channel,
    recipient: input.to,
    sender_key: null,
  };
  if (input.channel === "sms") {
    return { row: { ...base, body, message_type: "text", metadata: null } };
  }
  if (input.media) return whatsappMedia(base, input.media, row);
  const plan = planWhatsApp({
    hasWhatsapp: row.has_whatsapp,
    windowOpen: row.whatsapp_window_open,
    text: body,
    template: deps.whatsappTemplate
      ? { ...deps.whatsappTemplate, bodyParameters: [templateParameter(body)], body }
      : undefined,
  });
  return plan.kind === "unavailable"
    ? { refused: refusal(plan) }
    : { row: { ...base, ...planRow(plan) } };
}

/** A WhatsApp media row: free-form, so sent inside the 24-hour window and refused outside it. */
function whatsappMedia(
  base: Pick<OutboxRow, "id" | "channel" | "recipient" | "sender_key">,
  media: OutboundMedia,
  row: BeginRow,
): { row: OutboxRow } | { refused: SendResult } {
  const plan = planWhatsApp({
    hasWhatsapp: row.has_whatsapp,
    windowOpen: row.whatsapp_window_open,
    text: media.caption ?? "",
  });
  if (plan.kind === "unavailable") return { refused: refusal(plan) };
  return {
    row: { ...base, body: media.caption ?? null, message_type: media.type, metadata: { media } },
  };
}
