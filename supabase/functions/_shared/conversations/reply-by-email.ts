import type { OutboundDeps } from "../outbound/send.ts";
import {
  replySubject,
  sendEmail,
  type SendEmailResult,
  textToHtml,
  threadHeaders,
} from "../outbound/send-email.ts";

/**
 * The AI's answer to an inbound email, in the same thread: `Re:` its subject, `In-Reply-To` its
 * Message-ID and `References` the thread so far, as text and a short HTML part. Keyed on the
 * inbound row, so a reply retried after a crash is one email.
 */
export async function sendEmailReply(
  deps: OutboundDeps,
  inbound: { deliveryId: string; sessionId: string; sender: string; correlationId: string },
  text: string,
): Promise<SendEmailResult> {
  const [thread] = await deps.sql<
    { subject: string | null; message_id: string | null; references: unknown }[]
  >`
    select m.metadata->>'subject' as subject, m.metadata->>'message_id' as message_id,
           m.metadata->'references' as references
    from public.message_delivery_log m where m.id = ${inbound.deliveryId}`;
  const references = Array.isArray(thread?.references)
    ? thread.references.filter((r): r is string => typeof r === "string")
    : [];
  return await sendEmail(deps, {
    to: inbound.sender,
    subject: replySubject(thread?.subject ?? ""),
    text,
    html: textToHtml(text),
    headers: threadHeaders(thread?.message_id, references),
    sessionId: inbound.sessionId,
    purpose: "ai_reply",
    correlationId: inbound.correlationId,
    idempotencyKey: `ai_reply:${inbound.deliveryId}`,
  });
}
