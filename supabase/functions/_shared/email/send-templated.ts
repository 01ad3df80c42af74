import type { OutboundDeps } from "../outbound/send.ts";
import { sendEmail, type SendEmailResult } from "../outbound/send-email.ts";
import { type EmailTemplate, renderEmailTemplate } from "./template.ts";
import { listUnsubscribeHeaders } from "./unsubscribe.ts";

export interface TemplatedEmailDeps extends OutboundDeps {
  /** Where unsubscribe links point and what signs them; both needed for marketing email. */
  unsubscribe: { publicFunctionsUrl?: string; secret?: string };
}

export interface TemplatedEmailInput {
  to: string;
  template: string;
  locale?: string;
  vars: Record<string, unknown>;
  sessionId?: string | null;
  purpose: string;
  correlationId: string;
  idempotencyKey?: string;
}

/** An expected refusal, before anything is written or sent. */
export class TemplatedEmailError extends Error {
  constructor(
    readonly code: "TEMPLATE.NOT_FOUND" | "EMAIL.UNSUBSCRIBE_NOT_CONFIGURED",
    message: string,
  ) {
    super(message);
    this.name = "TemplatedEmailError";
  }
}

/**
 * An email from a stored template (public.message_templates, channel 'email', approved):
 * rendered first (a missing variable throws TemplateVariableMissing, nothing written); a
 * marketing-class template also carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)
 * with a signed link to email-unsubscribe, and is refused when those cannot be made.
 */
export async function sendTemplatedEmail(
  deps: TemplatedEmailDeps,
  input: TemplatedEmailInput,
): Promise<SendEmailResult> {
  const locale = input.locale ?? "en";
  const [template] = await deps.sql<(EmailTemplate & { category: string | null })[]>`
    select t.name, t.locale, t.subject, t.body_text, t.body_html, t.category
    from public.message_templates t
    where t.channel = 'email' and t.name = ${input.template} and t.locale = ${locale}
      and t.status = 'approved'`;
  if (!template) {
    throw new TemplatedEmailError(
      "TEMPLATE.NOT_FOUND",
      `No approved email template ${input.template} (${locale})`,
    );
  }
  const rendered = renderEmailTemplate(template, input.vars);
  let headers: Record<string, string> | undefined;
  if (template.category === "marketing") {
    const { publicFunctionsUrl, secret } = deps.unsubscribe;
    if (!publicFunctionsUrl || !secret) {
      throw new TemplatedEmailError(
        "EMAIL.UNSUBSCRIBE_NOT_CONFIGURED",
        "Marketing email needs PUBLIC_FUNCTIONS_URL and EMAIL_UNSUBSCRIBE_SECRET for its unsubscribe link",
      );
    }
    headers = await listUnsubscribeHeaders({ publicFunctionsUrl, secret }, input.to);
  }
  return await sendEmail(deps, {
    to: input.to,
    ...rendered,
    ...(headers ? { headers } : {}),
    tags: [{ name: "template", value: template.name.replace(/[^A-Za-z0-9_-]/g, "_") }],
    sessionId: input.sessionId,
    purpose: input.purpose,
    correlationId: input.correlationId,
    idempotencyKey: input.idempotencyKey,
  });
}
