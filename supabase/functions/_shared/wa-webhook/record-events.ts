import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import {
  logStatusOutcome,
  type StatusOutcome,
  type StatusUpdate,
} from "../outbound/delivery-status.ts";
import type { InboundMessage, RecordedInbound } from "../conversations/record-inbound.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import {
  type AcceptedInbound,
  acceptInboundBatched,
  recordInboundBatched,
} from "../inbox/record-inbound-batch.ts";
import {
  acceptDeliveryStatusesBatched,
  recordDeliveryStatusesBatched,
} from "../inbox/record-statuses-batch.ts";
import type { WebhookEvent } from "./parse-webhook.ts";
import { recordCallEnded } from "./record-call.ts";

/** Work that runs after the webhook answered, because what it needs is already durable. */
export type FollowUp =
  /**
   * New messages or statuses were accepted into the inboxes: the worker applies the statuses,
   * derives the messages and writes the replies.
   */
  | { kind: "inbox" }
  | { kind: "post_call"; callId: string; phoneNumber: string }
  /**
   * A message for the account's Genesys agents (routing `agent`) instead of the AI: recorded
   * directly (not through the inbox), because it is forwarded with its row ids.
   */
  | {
    kind: "agents";
    message: InboundMessage;
    recorded: RecordedInbound;
    account: WhatsAppAccount;
  }
  /** A status that moved, on a number bridged to Genesys: a receipt if an agent sent the message. */
  | { kind: "receipt"; update: StatusUpdate; deliveryId: string; to: string };

export interface RecordOutcome {
  counts: {
    messages: number;
    duplicates: number;
    statuses: number;
    unknown_statuses: number;
    calls: number;
    ignored: number;
  };
  followUps: FollowUp[];
}

/**
 * Records every event of one webhook: its messages accepted into the inbox together (one
 * statement, shared with the concurrent requests of the same event-loop turn; idempotent on the
 * wamid), its delivery statuses into the status inbox the same way (applied by the worker,
 * forward only; `counts.statuses` is how many were accepted, matched or not — the worker logs
 * which it could not match), and ended calls. Returns what is owed afterwards: the inbox worker when a new message was accepted, the
 * post-call flow for each answered call.
 * A database error propagates: the caller answers non-2xx and Meta redelivers the whole batch,
 * which is safe because every step is idempotent.
 */
export async function recordWhatsAppEvents(
  sql: Sql,
  log: Logger,
  events: WebhookEvent[],
): Promise<RecordOutcome> {
  const counts = {
    messages: 0,
    duplicates: 0,
    statuses: 0,
    unknown_statuses: 0,
    calls: 0,
    ignored: 0,
  };
  const followUps: FollowUp[] = [];
  // Statuses go into the status inbox together (one statement per event-loop turn, applied by
  // the inbox worker); those on a number bridged to Genesys are applied here, in one round
  // trip, because their receipts need the outcome.
  const statusEvents = events.flatMap((e) => (e.kind === "status" && e.agents ? [e.update] : []));
  const inboxStatuses = events.flatMap((e) => (e.kind === "status" && !e.agents ? [e.update] : []));
  // Messages and statuses are written at once, each into its tick batch (one statement each).
  // Messages for Genesys agents are recorded directly (their forward needs the rows); the
  // others are accepted into the inbox, derived and answered by the inbox worker.
  const messages = events.flatMap((e) => (e.kind === "message" ? [e] : []));
  const [statusOutcomes, , accepted]: [
    StatusOutcome[],
    void,
    (AcceptedInbound | RecordedInbound)[],
  ] = await Promise.all([
    recordDeliveryStatusesBatched(sql, statusEvents),
    acceptDeliveryStatusesBatched(sql, inboxStatuses),
    Promise.all(
      messages.map((e) =>
        e.agents ? recordInboundBatched(sql, e.message) : acceptInboundBatched(sql, e.message)
      ),
    ),
  ]);
  let inboxMessages = 0;
  let nextStatus = 0;
  let nextMessage = 0;
  for (const e of events) {
    if (e.kind === "message") {
      const m = e.message;
      const a = accepted[nextMessage++];
      const fields = {
        provider_message_id: m.providerMessageId,
        message_type: m.messageType,
        from: m.sender,
        ...("deliveryId" in a
          ? { delivery_id: a.deliveryId, session_id: a.sessionId }
          : { inbox_id: a.inboxId }),
      };
      if (!a.isNew) {
        counts.duplicates++;
        log.info("WHATSAPP_MESSAGE_DUPLICATE", fields);
        continue;
      }
      counts.messages++;
      log.info("WHATSAPP_MESSAGE_RECEIVED", { ...fields, needs_reply: m.needsReply !== false });
      if (e.agents && "deliveryId" in a) {
        followUps.push({ kind: "agents", message: m, recorded: a, account: e.agents });
      } else inboxMessages++;
    } else if (e.kind === "status" && !e.agents) {
      counts.statuses++;
    } else if (e.kind === "status") {
      const u = e.update;
      const outcome = statusOutcomes[nextStatus++];
      logStatusOutcome(log, u, outcome);
      if (!outcome.matched) {
        counts.unknown_statuses++;
        continue;
      }
      counts.statuses++;
      if (outcome.deliveryId && outcome.currentStatus !== outcome.previousStatus) {
        followUps.push({
          kind: "receipt",
          update: u,
          deliveryId: outcome.deliveryId,
          to: outcome.deliveryId,
        });
      }
    } else if (e.kind === "call") {
      const c = e.call;
      counts.calls++;
      if (c.event !== "terminate") {
        log.info("WHATSAPP_CALL_EVENT", {
          call_id: c.callId,
          call_event: c.event,
          direction: c.direction,
        });
        continue;
      }
      await recordCallEnded(sql, c);
      // A FAILED call never connected: there was no conversation to summarise.
      const answered = c.status !== "FAILED";
      log.info("WHATSAPP_CALL_ENDED", {
        call_id: c.callId,
        from: c.phoneNumber,
        status: c.status,
        duration_seconds: c.durationSeconds,
        post_call: answered,
      });
      if (answered) {
        followUps.push({ kind: "post_call", callId: c.callId, phoneNumber: c.phoneNumber });
      }
    } else {
      counts.ignored++;
      log[e.level](e.event, e.fields);
    }
  }
  if (inboxMessages > 0 || inboxStatuses.length > 0) followUps.unshift({ kind: "inbox" });
  return { counts, followUps };
}
