import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { InboundMessage, RecordedInbound } from "../conversations/record-inbound.ts";
import type { GenesysClient, OpenInboundMessage } from "../channels/genesys.ts";
import type { GenesysAccount, WhatsAppAccount } from "../tenants/accounts.ts";
import { captionOf, inboundAttachment, type InboundMediaDeps } from "../media/inbound.ts";

export interface ForwardDeps {
  sql: Sql;
  logger: Logger;
  genesys: GenesysClient;
  /** The tenant's Genesys integration (tenants/accounts.ts). */
  integrationOf(tenantId: string): Promise<GenesysAccount | null>;
  /** Received files: fetched from WhatsApp, kept in `media-inbound`, linked for 1 h (media/). */
  media: InboundMediaDeps;
}

/**
 * A WhatsApp message as Open Messaging's inbound message: the person by their WhatsApp id
 * (E.164, idType Phone) and WhatsApp profile name, the time they sent it, our wamid as the
 * channel message id, and the text (a caption or a short description for media).
 */
export function openMessageOf(m: InboundMessage): OpenInboundMessage {
  const sentAt = typeof m.metadata?.sent_at === "string" ? m.metadata.sent_at : null;
  return {
    channel: {
      messageId: m.providerMessageId,
      from: {
        id: m.sender,
        idType: "Phone",
        ...(m.displayName ? { nickname: m.displayName } : {}),
      },
      time: sentAt ?? new Date().toISOString(),
    },
    text: m.body ?? "",
  };
}

/**
 * Hands a recorded WhatsApp message to the tenant's Genesys agents: posts it to the integration
 * and maps the conversation (the person ↔ the integration, the number they wrote to) and the
 * message (its Genesys id ↔ our row). A file the person sent goes as an `Attachment` whose URL
 * is a signed link to our copy, valid 1 h. A failure is logged: the message stays recorded and
 * visible in the console.
 */
export function createAgentForwarder(deps: ForwardDeps) {
  return async (m: InboundMessage, recorded: RecordedInbound, account: WhatsAppAccount) => {
    const log = deps.logger.child({
      correlation_id: m.correlationId,
      delivery_id: recorded.deliveryId,
      tenant_id: account.tenantId,
    });
    const integration = await deps.integrationOf(account.tenantId);
    if (!integration) {
      log.error("GENESYS_NOT_CONFIGURED", { reason: "routing agent without an integration" });
      return;
    }
    const attachment = await inboundAttachment(deps.media, m, recorded, account, log);
    const message = openMessageOf(m);
    const sent = await deps.genesys.sendInbound(
      integration,
      attachment ? { ...message, text: captionOf(m) ?? "", content: [attachment] } : message,
    );
    if (!sent.ok) {
      log.error("GENESYS_INBOUND_FAILED", {
        integration_id: integration.integrationId,
        error_code: sent.error.code,
        error_class: sent.error.class,
      });
      return;
    }
    await rpcValue(deps.sql, "track_genesys_inbound", {
      p_integration_id: integration.integrationId,
      p_whatsapp_id: m.sender,
      p_tenant_id: account.tenantId,
      p_phone_number_id: account.phoneNumberId ?? undefined,
      p_session_id: recorded.sessionId,
      p_delivery_id: recorded.deliveryId,
      p_genesys_message_id: sent.id ?? m.providerMessageId,
    });
    log.info("GENESYS_INBOUND_SENT", {
      integration_id: integration.integrationId,
      genesys_message_id: sent.id,
    });
  };
}
