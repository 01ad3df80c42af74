import { rpc, rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { verifyBase64Sha256 } from "../http/signature.ts";
import { e164Shaped } from "../phone.ts";
import type { GenesysClient, OpenReceipt } from "../channels/genesys.ts";
import type { GenesysOutbox } from "../genesys/outbox.ts";
import { sendReceiptDurably } from "../genesys/receipts.ts";
import {
  sendMessage,
  type SendMessageDeps,
  type SendMessageResult,
} from "../outbound/send-message.ts";
import type { ChannelFailure } from "../outbound/adapter.ts";
import type { z } from "zod";
import { type MediaStore, safeName } from "../media/storage.ts";
import { captionable, type OutboundMedia, stageOutboundMedia } from "../media/outbound.ts";
import {
  bareMime,
  WHATSAPP_MEDIA,
  type WhatsAppMediaType,
  whatsappTypeOf,
} from "../media/limits.ts";
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
  /** Downloads agents' attachments with the integration's token. */
  genesys: Pick<GenesysClient, "downloadAttachment">;
  /** Where agents' attachments are kept and linked from (media/storage.ts); null: refused. */
  media: MediaStore | null;
  /** Receipts to Genesys go through its outbox (genesys/outbox.ts): retried, never doubled. */
  outbox: Pick<GenesysOutbox, "post">;
}

/**
 * `POST /genesys-webhook`: Genesys Cloud Open Messaging outbound notifications, signed
 * `X-Hub-Signature-256: sha256=<base64 HMAC-SHA256 of the raw body>` with the integration's
 * outbound webhook secret. An agent's text and attachments go to the person on WhatsApp from the
 * number they wrote to (idempotent on the Genesys message id: Genesys retries 5 times, 5 s
 * apart); an attachment is downloaded, kept in `media-outbound` and sent by a 24-hour link, and
 * one WhatsApp does not take (type, size) is refused with a `Failed` receipt saying why; when
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
  const text = n.text?.trim();
  const attachments = (n.content ?? []).flatMap((c) => {
    const a = Attachment.safeParse(c);
    return a.success ? [a.data.attachment] : [];
  });
  if (!text && attachments.length === 0) {
    await fail("InvalidMessageStructure", "The message has no text");
    return "refused";
  }
  const staged = await stageAttachments(deps, integration, n.id, attachments, text);
  if (!staged.ok) {
    log.warn("GENESYS_ATTACHMENT_REFUSED", { error_code: staged.error.code });
    await fail(staged.reason, staged.error.message);
    return "refused";
  }
  // One WhatsApp message per attachment, the text as the first caption it fits; text that fits
  // no caption (audio, a sticker) or comes alone goes as its own message.
  const parts: { media?: OutboundMedia; body: string }[] = staged.media.map((m) => ({
    media: m,
    body: m.caption ?? "",
  }));
  if (text && !staged.media.some((m) => m.caption)) parts.push({ body: text });
  // Outside the 24-hour window text goes as the number's agent-reply template, if it has one.
  const number = await deps.integrations.whatsapp(conversation.phone_number_id);
  const sendDeps = { ...deps, whatsappTemplate: number?.agentReplyTemplate };
  let first: SendMessageResult | null = null;
  for (const [i, part] of parts.entries()) {
    const sent = await sendMessage(sendDeps, {
      channel: "whatsapp",
      to,
      body: part.body,
      media: part.media,
      sessionId: conversation.session_id,
      purpose: "agent_reply",
      correlationId,
      // Genesys retries a notification: every part of it is sent once.
      idempotencyKey: `genesys:${integration.integrationId}:${n.id}${i > 0 ? `:${i}` : ""}`,
      senderKey: conversation.phone_number_id
        ? `whatsapp:${conversation.phone_number_id}`
        : undefined,
    });
    first ??= sent;
    log.info("GENESYS_AGENT_MESSAGE", {
      delivery_id: sent.deliveryId,
      status: sent.status,
      media_type: part.media?.type,
      error_code: sent.error?.code,
    });
    if (sent.status === "failed" || sent.status === "blocked") {
      await trackOutbound(deps, integration, n, to, first.deliveryId);
      await fail(reasonCode(sent.error?.class), agentReason(sent.error));
      return sent.status;
    }
  }
  const isNew = await trackOutbound(deps, integration, n, to, first!.deliveryId);
  if (!isNew) log.info("GENESYS_AGENT_MESSAGE_DUPLICATE", { delivery_id: first!.deliveryId });
  return first!.status;
}

function trackOutbound(
  deps: GenesysWebhookDeps,
  integration: GenesysAccount,
  n: NotificationT,
  to: string,
  deliveryId: string,
): Promise<boolean> {
  return rpcValue(deps.sql, "track_genesys_outbound", {
    p_integration_id: integration.integrationId,
    p_whatsapp_id: to,
    p_genesys_message_id: n.id,
    p_genesys_conversation_id: n.conversationId,
    p_delivery_id: deliveryId,
  });
}

type AttachmentT = z.infer<typeof Attachment>["attachment"];

/** Open Messaging's media types as WhatsApp's (a WebP image is a sticker there). */
function whatsappTypeFor(a: AttachmentT): WhatsAppMediaType {
  if (a.mime && bareMime(a.mime) === "image/webp") return "sticker";
  switch (a.mediaType.toLowerCase()) {
    case "image":
      return "image";
    case "video":
      return "video";
    case "audio":
      return "audio";
    case "file":
    case "document":
      return "document";
  }
  return a.mime ? whatsappTypeOf(a.mime) : "document";
}

/**
 * The agent's attachments, downloaded (with the integration's token), checked against what
 * WhatsApp accepts, kept in `media-outbound` and linked for 24 h. The first problem ends it,
 * with the Open Messaging reason the agent is shown.
 */
async function stageAttachments(
  deps: GenesysWebhookDeps,
  integration: GenesysAccount,
  messageId: string,
  attachments: AttachmentT[],
  text: string | undefined,
): Promise<
  | { ok: true; media: OutboundMedia[] }
  | { ok: false; reason: string; error: { code: string; message: string } }
> {
  if (attachments.length === 0) return { ok: true, media: [] };
  if (!deps.media) {
    return {
      ok: false,
      reason: "GeneralError",
      error: { code: "MEDIA.NOT_CONFIGURED", message: "Media storage is not configured" },
    };
  }
  const media: OutboundMedia[] = [];
  let caption = text;
  for (const [i, a] of attachments.entries()) {
    const type = whatsappTypeFor(a);
    const name = a.filename ?? `attachment ${i + 1}`;
    const got = await deps.genesys.downloadAttachment(
      integration,
      a.url,
      WHATSAPP_MEDIA[type].maxBytes,
    );
    const refused = (error: ChannelFailure) => ({
      ok: false as const,
      reason: error.code === "MEDIA.TOO_LARGE"
        ? "InvalidMediaContentLength"
        : error.code === "MEDIA.UNSUPPORTED_TYPE"
        ? "MediaTypeNotAllowed"
        : "GeneralError",
      error: { code: error.code, message: `${name}: ${error.message}` },
    });
    if (!got.ok) return refused(got.error);
    const staged = await stageOutboundMedia(deps.media, {
      bytes: got.file.bytes,
      mime: a.mime ?? got.file.mime,
      filename: a.filename,
    }, {
      prefix: `${safeName(integration.integrationId, "integration")}/${
        safeName(messageId, "message")
      }/${i}`,
      type,
      caption: caption && captionable(type) ? caption : undefined,
    });
    if (!staged.ok) return refused(staged.error);
    if (staged.media.caption) caption = undefined;
    media.push(staged.media);
  }
  return { ok: true, media };
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
