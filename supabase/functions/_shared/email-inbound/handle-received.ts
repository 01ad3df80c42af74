import EmailReplyParser from "email-reply-parser";
import type { EmailAdapter, ReceivedEmail } from "../outbound/adapter.ts";
import type { OutboundDeps } from "../outbound/send.ts";
import type { WaitUntil } from "../platform/background.ts";
import { recordInboundBatched } from "../inbox/record-inbound-batch.ts";
import { pgSafeText } from "../text/pg-safe.ts";
import type { InboundForReply } from "../conversations/reply-to-inbound.ts";
import { parseMailbox, type ReceivedEvent } from "./events.ts";
import { HttpError } from "../http/errors.ts";

export interface ReceivedEmailDeps extends OutboundDeps {
  email: Pick<EmailAdapter, "fetchReceived">;
  waitUntil: WaitUntil;
  /** The AI reply, in the same thread, after the webhook answered. */
  onInbound: (recorded: InboundForReply<"email">) => Promise<void>;
}

export type ReceivedOutcome = "recorded" | "duplicate" | "ignored";

/** Longest stored text of one email; the AI reads the new part only, so this is generous. */
const MAX_BODY_CHARS = 20_000;

/**
 * One `email.received` event: the webhook carries metadata only, so the content is fetched
 * (`GET /emails/receiving/{id}`); the quoted history and the signature are stripped with
 * email-reply-parser; the new text is recorded once per Resend email id through the inbound
 * pipeline (the sender's address resolves to their profile — a new person gets one — and their
 * live session continues), and the AI reply runs after the 200. A content fetch that may pass
 * later answers 503, so Resend delivers the event again; one that never will is logged and
 * answered 200.
 */
export async function handleReceivedEmail(
  deps: ReceivedEmailDeps,
  event: ReceivedEvent,
  correlationId: string,
): Promise<ReceivedOutcome> {
  const log = deps.logger.child({
    correlation_id: correlationId,
    provider_message_id: event.data.email_id,
  });
  const mailbox = parseMailbox(event.data.from);
  if (!mailbox) {
    log.warn("EMAIL_INBOUND_IGNORED", { reason: "the sender is not an email address" });
    return "ignored";
  }
  const fetched = await deps.email.fetchReceived(event.data.email_id);
  if (!fetched.ok) {
    if (fetched.error.class === "retryable") {
      log.warn("EMAIL_CONTENT_UNAVAILABLE", { error_code: fetched.error.code });
      throw new HttpError(503, "EMAIL.CONTENT_UNAVAILABLE", "The email could not be fetched yet");
    }
    log.error("EMAIL_INBOUND_IGNORED", {
      reason: "its content could not be fetched",
      error_code: fetched.error.code,
    });
    return "ignored";
  }
  const email = fetched.email;
  const body = newText(email);
  const recorded = await recordInboundBatched(deps.sql, {
    channel: "email",
    sender: mailbox.address,
    senderKind: "email",
    provider: "resend",
    providerMessageId: email.id,
    messageType: "email",
    body,
    metadata: {
      subject: pgSafeText(email.subject).slice(0, 998),
      message_id: email.messageId,
      references: email.references,
      to: email.to,
      attachments: email.attachments.map((a) => ({
        filename: a.filename,
        content_type: a.contentType,
      })),
    },
    correlationId,
    ...(mailbox.name ? { displayName: mailbox.name } : {}),
    needsReply: body.trim() !== "",
  });
  if (!recorded.isNew) {
    log.info("EMAIL_INBOUND_DUPLICATE", { delivery_id: recorded.deliveryId });
    return "duplicate";
  }
  log.info("EMAIL_INBOUND_RECEIVED", {
    delivery_id: recorded.deliveryId,
    session_id: recorded.sessionId,
    attachments: email.attachments.length,
  });
  if (body.trim() !== "") {
    deps.waitUntil(
      deps.onInbound({ ...recorded, channel: "email", sender: mailbox.address, correlationId })
        .catch((err) =>
          log.error("EMAIL_INBOUND_REPLY_ERROR", {
            error: err instanceof Error ? err.message : String(err),
          })
        ),
    );
  }
  return "recorded";
}

/**
 * What the person wrote this time: the plain-text part without the quoted thread and the
 * signature. An email with attachments and no text says which files it carried.
 */
export function newText(email: Pick<ReceivedEmail, "text" | "attachments">): string {
  const reply = new EmailReplyParser().parseReply(email.text ?? "").trim();
  const files = email.attachments.map((a) => a.filename).join(", ");
  const text = reply || (files ? `[attachments: ${files}]` : "");
  return pgSafeText(text).slice(0, MAX_BODY_CHARS);
}
