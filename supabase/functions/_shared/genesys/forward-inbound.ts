import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { InboundMessage, RecordedInbound } from "../conversations/record-inbound.ts";
import type { OpenInboundMessage } from "../channels/genesys.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { GenesysOutbox } from "./outbox.ts";
import { inboundAttachment, type InboundMediaDeps } from "../media/inbound.ts";

export interface ForwardDeps {
  sql: Sql;
  logger: Logger;
  outbox: Pick<GenesysOutbox, "post">;
  /**
   * Received files: fetched from WhatsApp and kept in `media-inbound` before the post is owed
   * (recorded on the message's row as `metadata.stored_media`); the outbox links them for 1 h.
   */
  media: InboundMediaDeps;
}

/** What a WhatsApp message needs to become an Open Messaging message. */
export type ForwardedMessage = Pick<
  InboundMessage,
  "sender" | "providerMessageId" | "body" | "metadata" | "displayName"
>;

/**
 * A WhatsApp message as Open Messaging's inbound message: the person by their WhatsApp id
 * (E.164, idType Phone) and WhatsApp profile name, the time they sent it, our wamid as the
 * channel message id (Genesys dedupes on it, so a retried post is not a second message), and
 * the text (a caption or a short description for media).
 */
export function openMessageOf(m: ForwardedMessage): OpenInboundMessage {
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
 * Hands a recorded WhatsApp message to the tenant's Genesys agents (routing `agent`): a file the
 * person sent is first kept in `media-inbound` (media/inbound.ts; the post then carries it as an
 * `Attachment` linked for 1 h); then the message is owed as a durable post
 * (public.genesys_outbox, one round trip) and posted right away; a post Genesys does not take
 * (429, 5xx, timeout) is retried by the dispatch tick with backoff (genesys/outbox.ts), and the
 * conversation and message are mapped once it is accepted.
 */
export function createAgentForwarder(deps: ForwardDeps) {
  return async (m: InboundMessage, recorded: RecordedInbound, account: WhatsAppAccount) => {
    // The file first (the post reads it from the row); a file that cannot be fetched is logged
    // and the message goes with its description.
    await inboundAttachment(
      deps.media,
      m,
      recorded,
      account,
      deps.logger.child({ correlation_id: m.correlationId, delivery_id: recorded.deliveryId }),
    );
    const id = await rpcValue(deps.sql, "enqueue_genesys_post", {
      p_tenant_id: account.tenantId,
      p_kind: "message",
      p_dedupe_key: `message:${recorded.deliveryId}`,
      p_delivery_id: recorded.deliveryId,
    });
    deps.logger.debug("GENESYS_POST_OWED", {
      correlation_id: m.correlationId,
      delivery_id: recorded.deliveryId,
      genesys_post_id: id,
    });
    await deps.outbox.post([Number(id)]);
  };
}
