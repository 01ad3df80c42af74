import Mustache from "mustache";
import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import { pgSafeText } from "../text/pg-safe.ts";
import type { EmailAttachment } from "./adapter.ts";
import { type OutboundDeps, senderFor, sendEvent, sendPaced } from "./send.ts";
import type { EmailFields, OutboxRow } from "./senders.ts";
import { SessionNotRecipient } from "./send-message.ts";

export interface SendEmailInput {
  to: string;
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
  headers?: Record<string, string>;
  attachments?: EmailAttachment[];
  tags?: { name: string; value: string }[];
  sessionId?: string | null;
  /** ai_reply, post_call_summary, tool, marketing, ... */
  purpose: string;
  correlationId: string;
  /** The same key twice sends once (here and, as Idempotency-Key, at Resend). */
  idempotencyKey?: string;
  senderKey?: string;
}

export interface SendEmailResult {
  deliveryId: string;
  channel: "email";
  status: "sent" | "failed" | "blocked" | "queued" | "unknown" | "delivered" | "read";
  providerMessageId?: string;
  error?: { code: string; class: string; message: string };
}

/**
 * One email: logged (queued, with everything a retry needs in its metadata) before Resend is
 * called, then updated with the outcome. Nothing goes to an address that hard-bounced or to a
 * person who opted out of email (the row is `blocked`, EMAIL.UNDELIVERABLE / EMAIL.OPTED_OUT);
 * a send without a pacing token is left to dispatch, which batches.
 */
export async function sendEmail(
  deps: OutboundDeps,
  input: SendEmailInput,
): Promise<SendEmailResult> {
  const text = pgSafeText(input.text);
  const fields: EmailFields = {
    subject: pgSafeText(input.subject).replace(/[\r\n]+/g, " ").slice(0, 998),
    ...(input.html ? { html: pgSafeText(input.html) } : {}),
    ...(input.replyTo ? { replyTo: input.replyTo } : {}),
    ...(input.headers ? { headers: input.headers } : {}),
    ...(input.attachments?.length ? { attachments: input.attachments } : {}),
    ...(input.tags?.length ? { tags: input.tags } : {}),
  };
  const row = await begin(deps, input, text, fields);
  const log = deps.logger.child({
    correlation_id: input.correlationId,
    delivery_id: row.delivery_id,
  });
  const base = { deliveryId: row.delivery_id, channel: "email" as const };
  if (row.status === "blocked") {
    log.info("EMAIL_MESSAGE_BLOCKED", { purpose: input.purpose, error_code: row.error_code });
    return {
      ...base,
      status: "blocked",
      error: {
        code: row.error_code ?? "EMAIL.OPTED_OUT",
        class: "permanent",
        message: row.error_message ?? "No email goes to this recipient",
      },
    };
  }
  if (!row.is_new) return { ...base, status: row.status as SendEmailResult["status"] };

  const sender = senderFor(deps, "email", input.senderKey);
  const message: OutboxRow = {
    id: row.delivery_id,
    channel: "email",
    recipient: row.recipient,
    body: text,
    message_type: "email",
    metadata: { email: fields },
    sender_key: null,
    idempotency_key: input.idempotencyKey ?? null,
  };
  const sent = await sendPaced(deps, { sender, row: message });
  if (!sent) {
    log.info("MESSAGE_DEFERRED_BY_PACING", { sender_key: sender.key });
    return { ...base, status: "queued" };
  }
  const { result, outcome } = sent;
  if (result.ok) {
    log.info(sendEvent("email", outcome.status), {
      purpose: input.purpose,
      provider_message_id: result.providerMessageId,
    });
    return { ...base, status: "sent", providerMessageId: result.providerMessageId };
  }
  log.warn(sendEvent("email", outcome.status), {
    purpose: input.purpose,
    error_code: result.error.code,
    error_class: result.error.class,
  });
  return {
    ...base,
    status: outcome.status,
    error: { code: result.error.code, class: result.error.class, message: result.error.message },
  };
}

async function begin(deps: OutboundDeps, input: SendEmailInput, text: string, fields: EmailFields) {
  try {
    const [row] = await rpc(deps.sql, "begin_email_message", {
      p_to: input.to,
      p_body: text,
      p_metadata: { email: fields } as unknown as Json,
      p_session_id: input.sessionId ?? undefined,
      p_purpose: input.purpose,
      p_correlation_id: input.correlationId,
      p_idempotency_key: input.idempotencyKey,
    });
    return row;
  } catch (err) {
    if ((err as { code?: unknown })?.code === "OM403") {
      throw new SessionNotRecipient(input.sessionId ?? "");
    }
    throw err;
  }
}

/** Plain text as a small HTML email: escaped, one paragraph per blank-line-separated block. */
export function textToHtml(text: string): string {
  return text.trim().split(/\n{2,}/).map((p) =>
    `<p>${Mustache.escape(p).replace(/\n/g, "<br>")}</p>`
  ).join("\n");
}

/** "Re: " once, however many the thread already has. */
export function replySubject(subject: string): string {
  const bare = subject.replace(/^\s*((re|aw|sv|fw|fwd)\s*:\s*)+/i, "").trim();
  return `Re: ${bare || "(no subject)"}`;
}

/** In-Reply-To and References for an answer to `messageId`, keeping the thread's chain. */
export function threadHeaders(
  messageId: string | null | undefined,
  references: string[] = [],
): Record<string, string> {
  if (!messageId) return {};
  const chain = [...references.filter((r) => r !== messageId), messageId].slice(-20);
  return { "In-Reply-To": messageId, References: chain.join(" ") };
}
