import { rpc, rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { verifyBase64Sha256 } from "../http/signature.ts";
import { e164Shaped } from "../phone.ts";
import type { OpenReceipt } from "../channels/genesys.ts";
import type { GenesysOutbox } from "../genesys/outbox.ts";
import { sendReceiptDurably } from "../genesys/receipts.ts";
import { sendMessage, type SendMessageDeps } from "../outbound/send-message.ts";
import type { GenesysAccount, WhatsAppAccount } from "../tenants/accounts.ts";
import { Attachment, isDisconnect, Notification, type NotificationT } from "./schemas.ts";
import { archiveWebhook } from "../archive/archive-webhook.ts";

export interface GenesysWebhookDeps extends SendMessageDeps {
  /**
   * The integration a notification names, with its outbound webhook secret, and the WhatsApp
   * number an agent answers from, with its template for replies outside the window
   * (tenants/accounts.ts).
   */
  integrations: {
    genesys(integrationId: string): Promise<GenesysAccount | null>;
    whatsapp(phoneNumberId: string | null): Promise<WhatsAppAccount | null>;
  };
  /** Receipts to Genesys go through its outbox (genesys/outbox.ts): retried, never doubled. */
  outbox: Pick<GenesysOutbox, "post">;
}

/**
 * `POST /genesys-webhook`: Genesys Cloud Open Messaging outbound notifications, signed
 * `X-Hub-Signature-256: sha256=<base64 HMAC-SHA256 of the raw body>` with the integration's
 * outbound webhook secret. An agent's text goes to the person on WhatsApp from the number they
 * wrote to (idempotent on the Genesys message id: Genesys retries 5 times, 5 s apart); when
 * WhatsApp cannot take it (the 24-hour window closed, no approved template) the agent gets a
 * `Failed` receipt saying why. Receipts for the messages we posted are logged.
 */
export function createGenesysWebhookHandler(deps: GenesysWebhookDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    const log = deps.logger.child({ correlation_id: correlationId });
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    const raw = await readRawBody(req);
    const integrationId = integrationIdOf(raw);
    const integration = integrationId ? await deps.integrations.genesys(integrationId) : null;
    if (!integration) {
      log.warn("GENESYS_INTEGRATION_UNKNOWN", { integration_id: integrationId });
      return json({ received: null });
    }
    if (!integration.webhookSecret) {
      log.error("GENESYS_WEBHOOK_SECRET_MISSING", { integration_id: integrationId });
      throw unauthorized("Webhook signatures cannot be checked");
    }
    const signature = req.headers.get("x-hub-signature-256");
    if (!(await verifyBase64Sha256(integration.webhookSecret, signature, raw))) {
      log.warn("GENESYS_SIGNATURE_INVALID", { has_signature: signature !== null });
      throw unauthorized("Invalid X-Hub-Signature-256");
    }
    // Kept for the operator (webhook_archive) before anything is sent for it.
    await archiveWebhook(deps.sql, {
      source: "genesys-webhook",
      correlationId,
      contentType: req.headers.get("content-type"),
      body: raw,
    });
    const parsed = Notification.safeParse(parseJson(raw));
    if (!parsed.success) {
      throw badRequest("VALIDATION.INVALID_BODY", "Not an Open Messaging notification", {
        field: parsed.error.issues[0]?.path.join("."),
      });
    }
    const n = parsed.data;
    const nlog = log.child({ integration_id: integration.integrationId, genesys_message_id: n.id });
    if (n.type === "Receipt") {
      const reason = n.reasons?.map((r) => [r.code, r.message].filter(Boolean).join(": "))
        .join("; ");
      const matched = await rpcValue(deps.sql, "record_genesys_receipt", {
        p_integration_id: integration.integrationId,
        p_genesys_message_id: n.id,
        p_status: n.status ?? "unknown",
        p_reason: reason || undefined,
      });
      nlog[n.status === "Failed" ? "warn" : "info"]("GENESYS_RECEIPT", {
        status: n.status,
        reasons: n.reasons?.map((r) => r.code),
        matched,
      });
      return json({ received: "receipt" });
    }
    if (isDisconnect(n)) {
      return json({ received: await agentDisconnected(deps, integration, n, nlog) });
    }
    if (n.type !== "Text" && n.type !== "Structured") {
      nlog.info("GENESYS_EVENT_IGNORED", { type: n.type });
      return json({ received: null });
    }
    return json({ received: await agentMessage(deps, integration, n, nlog, correlationId) });
  });
}

/** The integration id (`channel.id`) of a body whose signature is not checked yet. */
function integrationIdOf(raw: Uint8Array): string | null {
  try {
    const id = JSON.parse(new TextDecoder().decode(raw))?.channel?.id;
    return typeof id === "string" && id.length > 0 && id.length <= 256 ? id : null;
  } catch {
    return null;
  }
}

async function agentMessage(
  deps: GenesysWebhookDeps,
  integration: GenesysAccount,
  n: NotificationT,
  log: Logger,
  correlationId: string,
): Promise<string> {
  const to = e164Shaped(n.channel.to?.id ?? "");
  const fail = (code: string, message: string) =>
    receipt(deps, integration, n, to ?? n.channel.to?.id ?? "", "Failed", log, [{ code, message }]);
  if (!to) {
    await fail("InvalidDestination", "The recipient is not a WhatsApp phone number");
    return "refused";
  }
  const [conversation] = await rpc(deps.sql, "genesys_conversation", {
    p_integration_id: integration.integrationId,
    p_whatsapp_id: to,
  });
  if (!conversation || conversation.tenant_id !== integration.tenantId) {
    log.warn("GENESYS_CONVERSATION_UNKNOWN", { to });
    await fail("InvalidDestination", "Nobody wrote to this integration from that number");
    return "refused";
  }
  const attachments = (n.content ?? []).filter((c) => Attachment.safeParse(c).success);
  if (attachments.length > 0) {
    await fail("MediaTypeNotAllowed", "Attachments are not delivered to WhatsApp yet");
    return "refused";
  }
  const text = n.text?.trim();
  if (!text) {
    await fail("InvalidMessageStructure", "The message has no text");
    return "refused";
  }
  // Outside the 24-hour window the text goes as the number's agent-reply template, if it has one.
  const number = await deps.integrations.whatsapp(conversation.phone_number_id);
  const sent = await sendMessage({ ...deps, whatsappTemplate: number?.agentReplyTemplate }, {
    channel: "whatsapp",
    to,
    body: text,
    sessionId: conversation.session_id,
    purpose: "agent_reply",
    correlationId,
    idempotencyKey: `genesys:${integration.integrationId}:${n.id}`,
    senderKey: conversation.phone_number_id
      ? `whatsapp:${conversation.phone_number_id}`
      : undefined,
  });
  const isNew = await rpcValue(deps.sql, "track_genesys_outbound", {
    p_integration_id: integration.integrationId,
    p_whatsapp_id: to,
    p_genesys_message_id: n.id,
    p_genesys_conversation_id: n.conversationId,
    p_delivery_id: sent.deliveryId,
  });
  log.info("GENESYS_AGENT_MESSAGE", {
    delivery_id: sent.deliveryId,
    status: sent.status,
    duplicate: !isNew || undefined,
    error_code: sent.error?.code,
  });
  if (sent.status === "failed" || sent.status === "blocked") {
    await fail(reasonCode(sent.error?.class), agentReason(sent.error));
  }
  return sent.status;
}

/**
 * The agent ended the conversation (a Presence `Disconnect` event): the session's handoff is
 * closed and the AI answers the person's next message again.
 */
async function agentDisconnected(
  deps: GenesysWebhookDeps,
  integration: GenesysAccount,
  n: NotificationT,
  log: Logger,
): Promise<string> {
  const to = e164Shaped(n.channel.to?.id ?? "");
  const [conversation] = to
    ? await rpc(deps.sql, "genesys_conversation", {
      p_integration_id: integration.integrationId,
      p_whatsapp_id: to,
    })
    : [];
  if (!conversation?.session_id || conversation.tenant_id !== integration.tenantId) {
    log.info("GENESYS_DISCONNECT_UNKNOWN", { to });
    return "ignored";
  }
  const closed = await rpcValue(deps.sql, "close_conversation_handoff", {
    p_session_id: conversation.session_id,
    p_closed_by: "genesys",
    p_reason: "the agent disconnected",
  });
  log.info("CONVERSATION_HANDED_BACK", { session_id: conversation.session_id, closed });
  return closed ? "handed_back" : "ignored";
}

function reasonCode(errorClass: string | undefined): string {
  return errorClass === "window_closed" ? "MessageExpired" : "GeneralError";
}

/** What the agent reads when WhatsApp could not take their message. */
export function agentReason(error?: { code: string; class: string; message: string }): string {
  if (!error) return "WhatsApp did not accept the message";
  if (error.class === "window_closed") {
    return "The person last wrote more than 24 hours ago: WhatsApp only accepts a template now";
  }
  if (error.code.endsWith("OPTED_OUT")) return "The person opted out of WhatsApp messages";
  return `WhatsApp refused the message: ${error.message}`;
}

async function receipt(
  deps: GenesysWebhookDeps,
  integration: GenesysAccount,
  n: NotificationT,
  to: string,
  status: OpenReceipt["status"],
  log: Logger,
  reasons?: OpenReceipt["reasons"],
): Promise<void> {
  await sendReceiptDurably(deps, integration, {
    id: n.id,
    channel: { to: { id: to, idType: "Phone" }, time: new Date().toISOString() },
    status,
    ...(reasons ? { reasons } : {}),
    direction: "Outbound",
    isFinalReceipt: status !== "Delivered",
  });
  log.info("GENESYS_RECEIPT_OWED", { status, reasons: reasons?.map((r) => r.code) });
}
