import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import type { Logger } from "../log/logger.ts";
import type { InboundForReply } from "../conversations/reply-to-inbound.ts";
import { recordInboundBatched } from "../inbox/record-inbound-batch.ts";
import type { MetaChannel } from "../notifications/meta-format.ts";
import type { MetaEvent, SharedIdentity } from "./parse-webhook.ts";
import { isUniqueViolation } from "../db/errors.ts";

/** A new message from a person, and what is owed to it after the 200. */
export interface MetaFollowUp {
  channel: MetaChannel;
  /** The person's PSID / IGSID. */
  person: string;
  profileId: string;
  /** Set when the message needs an AI reply. */
  reply?: InboundForReply<MetaChannel>;
}

export interface MetaRecordOutcome {
  counts: {
    messages: number;
    duplicates: number;
    receipts: number;
    echoes: number;
    linked: number;
    ignored: number;
  };
  followUps: MetaFollowUp[];
}

/**
 * Links a shared phone number or email to the person (merging them with the profile that has
 * it). Idempotent, so it runs on redelivery too. A person whose profile already has another
 * phone number keeps it: the conflict is logged, the message stays recorded (null).
 */
async function link(
  sql: Sql,
  log: Logger,
  profileId: string,
  shared: SharedIdentity,
): Promise<string | null> {
  try {
    return await rpcValue(sql, "link_identity", {
      p_profile_id: profileId,
      p_kind: shared.kind,
      p_value: shared.value,
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    log.warn("META_IDENTITY_CONFLICT", { kind: shared.kind, profile_id: profileId });
    return null;
  }
}

/**
 * Records every event of one webhook before it is answered: messages through the inbound
 * pipeline (idempotent on the mid; grouped with concurrent requests' into one statement), a
 * shared phone number or email linked to the person (merging them with the profile that already
 * has it), receipts applied by watermark (forward only), the page's own messages (echoes) once.
 * A database error propagates: Meta redelivers the batch, and every step is idempotent.
 */
export async function recordMetaEvents(
  sql: Sql,
  log: Logger,
  events: MetaEvent[],
): Promise<MetaRecordOutcome> {
  const counts = { messages: 0, duplicates: 0, receipts: 0, echoes: 0, linked: 0, ignored: 0 };
  const followUps: MetaFollowUp[] = [];
  for (const e of events) {
    if (e.kind === "message") {
      const m = e.message;
      const channel = m.channel as MetaChannel;
      let recorded = await recordInboundBatched(sql, { ...m, senderKind: channel });
      const fields = {
        channel,
        provider_message_id: m.providerMessageId,
        message_type: m.messageType,
        delivery_id: recorded.deliveryId,
        session_id: recorded.sessionId,
      };
      const survivor = e.shared && await link(sql, log, recorded.profileId, e.shared);
      if (e.shared && survivor) {
        counts.linked++;
        const [session] = await rpc(sql, "get_or_create_session_for_profile", {
          p_profile_id: survivor,
          p_channel: channel,
        });
        log.info("META_IDENTITY_LINKED", {
          channel,
          kind: e.shared.kind,
          profile_id: survivor,
          merged: survivor !== recorded.profileId,
        });
        recorded = { ...recorded, profileId: survivor, sessionId: session.session_id };
      }
      if (!recorded.isNew) {
        counts.duplicates++;
        log.info("META_MESSAGE_DUPLICATE", fields);
        continue;
      }
      counts.messages++;
      log.info("META_MESSAGE_RECEIVED", { ...fields, needs_reply: m.needsReply !== false });
      followUps.push({
        channel,
        person: m.sender,
        profileId: recorded.profileId,
        ...(m.needsReply !== false
          ? {
            reply: {
              ...recorded,
              channel,
              sender: m.sender,
              correlationId: m.correlationId,
            },
          }
          : {}),
      });
    } else if (e.kind === "receipt") {
      const u = e.update;
      const moved = await rpcValue(sql, "apply_meta_receipt", {
        p_channel: u.channel,
        p_person: u.person,
        p_status: u.status,
        p_watermark_ms: u.watermark,
        p_mids: u.mids,
      });
      counts.receipts++;
      log.info("META_RECEIPT_APPLIED", { channel: u.channel, status: u.status, moved });
    } else if (e.kind === "echo") {
      const x = e.echo;
      const [r] = await rpc(sql, "record_meta_echo", {
        p_channel: x.channel,
        p_recipient: x.recipient,
        p_mid: x.mid,
        p_body: x.body ?? undefined,
        p_metadata: x.metadata as Json,
        p_delivery_id: x.ourDeliveryId,
        p_correlation_id: x.correlationId,
      });
      if (r.is_new) counts.echoes++;
      log.info("META_ECHO", { channel: x.channel, delivery_id: r.delivery_id, is_new: r.is_new });
    } else {
      counts.ignored++;
      log[e.level](e.event, e.fields);
    }
  }
  return { counts, followUps };
}
