import type { Sql } from "../db/client.ts";
import type { SendResult } from "../channels/types.ts";
import type { Logger } from "../log/logger.ts";
import type { SmsSender, WhatsAppSender } from "../notifications/dual-channel.ts";
import { formatSms } from "../notifications/sms-format.ts";
import { templateParameter } from "../notifications/whatsapp-format.ts";

export interface SendMessageDeps {
  sql: Sql;
  whatsapp: WhatsAppSender;
  sms: SmsSender;
  logger: Logger;
  /** Approved template for WhatsApp outside the 24 h window; unset: no WhatsApp there. */
  whatsappTemplate?: { name: string; language: string };
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
  status: "sent" | "failed" | "blocked" | "skipped" | "queued" | "delivered" | "read";
  providerMessageId?: string;
  error?: { code: string; class: string; message: string };
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
 * called, then updated with the outcome. SMS is plain text within 3 segments and never goes to a
 * person who opted out (the row is `blocked`); WhatsApp uses free text inside the 24-hour window
 * and the approved template outside it.
 */
export async function sendMessage(deps: SendMessageDeps, input: SendMessageInput): Promise<SendMessageResult> {
  const body = input.channel === "sms" ? formatSms(input.body, { maxSegments: 3 }).text : input.body;
  const [row] = await deps.sql<BeginRow[]>`
    select * from public.begin_outbound_message(
      ${input.channel}, ${input.to}, ${body}, ${input.sessionId ?? null}, ${input.purpose},
      ${input.correlationId}, ${input.idempotencyKey ?? null}, 'text')`;
  const log = deps.logger.child({ correlation_id: input.correlationId, delivery_id: row.delivery_id });
  const base = { deliveryId: row.delivery_id, channel: input.channel };

  if (row.status === "blocked") {
    log.info("SMS_MESSAGE_BLOCKED", { purpose: input.purpose });
    return { ...base, status: "blocked", error: { code: "SMS_OPTED_OUT", class: "permanent", message: "The recipient opted out of SMS" } };
  }
  if (!row.is_new) return { ...base, status: row.status as SendMessageResult["status"] };

  const { result, messageType } = await deliver(deps, input, body, row);
  await deps.sql`select public.record_outbound_outcome(
    ${row.delivery_id}, ${result.ok}, ${result.provider},
    ${result.ok ? result.providerMessageId : null}, ${body}, ${messageType},
    ${result.ok ? null : result.error.code}, ${result.ok ? null : result.error.class},
    ${result.ok ? null : result.error.message}, ${!result.ok && Boolean(result.error.notOnChannel)})`;

  const event = `${input.channel === "sms" ? "SMS" : "WHATSAPP"}_MESSAGE_${result.ok ? "SENT" : "FAILED"}`;
  if (result.ok) {
    log.info(event, { purpose: input.purpose, provider_message_id: result.providerMessageId });
    return { ...base, status: "sent", providerMessageId: result.providerMessageId };
  }
  log.warn(event, { purpose: input.purpose, error_code: result.error.code, error_class: result.error.class });
  return {
    ...base,
    status: "failed",
    error: { code: result.error.code, class: result.error.class, message: result.error.message },
  };
}

async function deliver(
  deps: SendMessageDeps,
  input: SendMessageInput,
  body: string,
  row: BeginRow,
): Promise<{ result: SendResult; messageType: string }> {
  if (input.channel === "sms") {
    return { result: await deps.sms.send(input.to, body, { correlationId: input.correlationId }), messageType: "text" };
  }
  if (row.has_whatsapp === false) {
    return {
      result: { ok: false, provider: "whatsapp", error: { class: "permanent", code: "NOT_ON_WHATSAPP", message: "The recipient is known not to use WhatsApp" } },
      messageType: "text",
    };
  }
  if (row.whatsapp_window_open) return { result: await deps.whatsapp.sendText(input.to, body), messageType: "text" };
  if (!deps.whatsappTemplate) {
    return {
      result: {
        ok: false,
        provider: "whatsapp",
        error: { class: "window_closed", code: "TEMPLATE_NOT_CONFIGURED", message: "Outside the 24-hour window and no template is configured" },
      },
      messageType: "text",
    };
  }
  const result = await deps.whatsapp.sendTemplate(input.to, {
    ...deps.whatsappTemplate,
    bodyParameters: [templateParameter(body)],
  });
  return { result, messageType: "template" };
}
