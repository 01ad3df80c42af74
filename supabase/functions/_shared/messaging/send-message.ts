import type { Sql } from "../db/client.ts";
import type { SendResult } from "../channels/types.ts";
import type { Logger } from "../log/logger.ts";
import {
  planWhatsApp,
  sendWhatsApp,
  type SmsSender,
  type WhatsAppSender,
} from "../notifications/dual-channel.ts";
import { formatSms } from "../notifications/sms-format.ts";
import { templateParameter } from "../notifications/whatsapp-format.ts";
import type { Pacer, SenderRef } from "../delivery/pacing.ts";
import { recordOutcome, sendEvent } from "../delivery/outcome.ts";
import { pgSafeText } from "../text/pg-safe.ts";

export interface SendMessageDeps {
  sql: Sql;
  whatsapp: WhatsAppSender;
  sms: SmsSender;
  logger: Logger;
  /** Approved template for WhatsApp outside the 24 h window; unset: no WhatsApp there. */
  whatsappTemplate?: { name: string; language: string };
  /** Per-sender pacing; without it sends are not paced. */
  pacing?: { pacer: Pacer; whatsapp: SenderRef; sms: SenderRef; maxWaitMs?: number };
}

export interface SendMessageInput {
  channel: "whatsapp" | "sms";
  /** E.164 */
  to: string;
  body: string;
  sessionId?: string | null;
  /** ai_reply, tool, keyword_reply, ... */
  purpose: string;
  correlationId: string;
  /** The same key twice sends once. */
  idempotencyKey?: string;
}

export interface SendMessageResult {
  deliveryId: string;
  channel: "whatsapp" | "sms";
  status: "sent" | "failed" | "blocked" | "skipped" | "queued" | "unknown" | "delivered" | "read";
  providerMessageId?: string;
  error?: { code: string; class: string; message: string };
  /** Queued for another attempt (a retryable failure, or no pacing token yet): when. */
  nextAttemptAt?: string;
}

/** The session given is not the recipient's (begin_outbound_message refused it, SQLSTATE OM403). */
export class SessionNotRecipient extends Error {
  readonly code = "SESSION.NOT_RECIPIENT";
  constructor(readonly sessionId: string) {
    super(`Session ${sessionId} does not belong to the recipient`);
    this.name = "SessionNotRecipient";
  }
}

interface BeginRow {
  delivery_id: string;
  status: string;
  whatsapp_window_open: boolean;
  has_whatsapp: boolean | null;
  is_new: boolean;
}

/**
 * One message on one channel, for AI replies and tools: logged (queued) before the provider is
 * called, then updated with the outcome. Nothing goes to a person who opted out of the channel
 * (the row is `blocked`); SMS is plain text within 3 segments; WhatsApp uses free text inside the 24-hour window
 * and the approved template outside it.
 */
export async function sendMessage(deps: SendMessageDeps, input: SendMessageInput): Promise<SendMessageResult> {
  // Safe for Postgres before anything is sent: an outcome that cannot be stored must not follow
  // a provider's acceptance (AI replies and tool messages are input too).
  const text = pgSafeText(input.body);
  const body = input.channel === "sms" ? formatSms(text, { maxSegments: 3 }).text : text;
  const row = await begin(deps, input, body);
  const log = deps.logger.child({ correlation_id: input.correlationId, delivery_id: row.delivery_id });
  const base = { deliveryId: row.delivery_id, channel: input.channel };

  if (row.status === "blocked") {
    const name = input.channel === "sms" ? "SMS" : "WhatsApp";
    log.info(`${input.channel.toUpperCase()}_MESSAGE_BLOCKED`, { purpose: input.purpose });
    return {
      ...base,
      status: "blocked",
      error: { code: `${input.channel.toUpperCase()}_OPTED_OUT`, class: "permanent", message: `The recipient opted out of ${name}` },
    };
  }
  if (!row.is_new) return { ...base, status: row.status as SendMessageResult["status"] };

  if (deps.pacing) {
    const sender = deps.pacing[input.channel];
    const missing = await deps.pacing.pacer.acquire([sender], deps.pacing.maxWaitMs);
    if (missing.size > 0) {
      await deps.sql`select public.release_deliveries(${[row.delivery_id]}::uuid[])`;
      log.info("MESSAGE_DEFERRED_BY_PACING", { sender_key: sender.key });
      return { ...base, status: "queued", nextAttemptAt: new Date().toISOString() };
    }
  }

  const { result, messageType, template } = await deliver(deps, input, body, row);
  const outcome = await recordOutcome(deps.sql, row.delivery_id, result, {
    body,
    messageType,
    metadata: template ? { template } : undefined,
    senderKey: deps.pacing?.[input.channel].key ?? null,
  });

  if (result.ok) {
    log.info(sendEvent(input.channel, outcome.status), { purpose: input.purpose, provider_message_id: result.providerMessageId });
    return { ...base, status: "sent", providerMessageId: result.providerMessageId };
  }
  log.warn(sendEvent(input.channel, outcome.status), {
    purpose: input.purpose, error_code: result.error.code, error_class: result.error.class,
  });
  return {
    ...base,
    status: outcome.status,
    error: { code: result.error.code, class: result.error.class, message: result.error.message },
    ...(outcome.nextAttemptAt ? { nextAttemptAt: outcome.nextAttemptAt.toISOString() } : {}),
  };
}

async function begin(deps: SendMessageDeps, input: SendMessageInput, body: string): Promise<BeginRow> {
  try {
    const [row] = await deps.sql<BeginRow[]>`
      select * from public.begin_outbound_message(
        ${input.channel}, ${input.to}, ${body}, ${input.sessionId ?? null}, ${input.purpose},
        ${input.correlationId}, ${input.idempotencyKey ?? null}, 'text')`;
    return row;
  } catch (err) {
    if ((err as { code?: unknown })?.code === "OM403") throw new SessionNotRecipient(input.sessionId ?? "");
    throw err;
  }
}

async function deliver(
  deps: SendMessageDeps,
  input: SendMessageInput,
  body: string,
  row: BeginRow,
): Promise<{ result: SendResult; messageType: string; template?: { name: string; language: string; bodyParameters: string[] } }> {
  if (input.channel === "sms") {
    const opts = { correlationId: input.correlationId, deliveryId: row.delivery_id };
    return { result: await deps.sms.send(input.to, body, opts), messageType: "text" };
  }
  const plan = planWhatsApp({
    hasWhatsapp: row.has_whatsapp,
    windowOpen: row.whatsapp_window_open,
    text: body,
    template: deps.whatsappTemplate
      ? { ...deps.whatsappTemplate, bodyParameters: [templateParameter(body)], body }
      : undefined,
  });
  const result = await sendWhatsApp(deps.whatsapp, input.to, plan, row.delivery_id);
  if (plan.kind !== "template") return { result, messageType: "text" };
  const { name, language, bodyParameters } = plan;
  return { result, messageType: "template", template: { name, language, bodyParameters } };
}
