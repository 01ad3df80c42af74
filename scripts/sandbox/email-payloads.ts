import type { MessageStore } from "./messages.ts";
import type { Webhook } from "./webhook.ts";

/**
 * Resend's webhooks as Resend builds them: `{ type, created_at, data }`, signed as Standard
 * Webhooks (webhook.ts). An inbound email's content is not in its webhook: it is put in the
 * sandbox's Resend inbox, where the function fetches it (`GET /emails/receiving/{id}`).
 */

const svixId = () => `msg_${crypto.randomUUID().replaceAll("-", "")}`;

export function resendWebhook(type: string, data: Record<string, unknown>, now: Date): Webhook {
  return {
    provider: "resend",
    path: "/email-inbound",
    body: JSON.stringify({ type, created_at: now.toISOString(), data }),
    providerMessageId: String(data.email_id),
    webhookId: svixId(),
  };
}

/**
 * A person's email to the business. Written as a mail client writes a reply: the new text, a
 * signature, then the quoted email it answers (the last one the sandbox delivered to them), with
 * In-Reply-To / References pointing at it, so the thread and the reply parser are exercised.
 */
export function resendInbound(
  m: { from: string; text: string; name?: string; subject?: string; now: Date },
  deps: {
    messages: MessageStore;
    emailInbox: Map<string, Record<string, unknown>>;
  },
): Webhook {
  const last = deps.messages.list({ channel: "email", to: m.from }).at(-1);
  const id = crypto.randomUUID();
  const messageId = `<${id}@sandbox-mail.test>`;
  const ours = last ? `<${last.id}@resend.dev>` : null;
  const subject = m.subject ?? (last?.email ? `Re: ${last.email.subject}` : "Hello");
  const quoted = last
    ? `\n\nOn ${new Date(last.received_at).toUTCString()}, ${last.from} wrote:\n` +
      last.body.split("\n").map((l) => `> ${l}`).join("\n")
    : "";
  const from = m.name ? `${m.name} <${m.from}>` : m.from;
  const to = ["support@sandbox.test"];
  deps.emailInbox.set(id, {
    id,
    from,
    to,
    subject,
    text: `${m.text}\n\n-- \n${m.name ?? m.from}${quoted}\n`,
    html: null,
    message_id: messageId,
    created_at: m.now.toISOString(),
    headers: ours ? { "in-reply-to": ours, references: ours } : {},
    attachments: [],
  });
  return resendWebhook("email.received", {
    email_id: id,
    created_at: m.now.toISOString(),
    from,
    to,
    cc: [],
    bcc: [],
    message_id: messageId,
    subject,
    attachments: [],
  }, m.now);
}
