import type { Logger } from "../log/logger.ts";
import type { WaitUntil } from "../platform/background.ts";
import { notifyAfterCall, type NotifyAfterCallDeps } from "../notifications/notify-after-call.ts";
import type { FollowUp } from "./record-events.ts";
import type { InboundMessage, RecordedInbound } from "../conversations/record-inbound.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { StatusUpdate } from "../outbound/delivery-status.ts";

/** Hands a message to the account's Genesys agents (genesys/forward-inbound.ts). */
export type ToAgents = (
  message: InboundMessage,
  recorded: RecordedInbound,
  account: WhatsAppAccount,
) => Promise<void>;

/** Tells Genesys what became of an agent's message (genesys/receipts.ts). */
export type ReceiptToAgents = (deliveryId: string, update: StatusUpdate) => Promise<void>;

export interface FollowUpDeps extends NotifyAfterCallDeps {
  waitUntil: WaitUntil;
  /**
   * New messages are in the inbox: get the inbox worker going (main.ts kicks the agent-worker
   * function, which derives them and writes the replies).
   */
  onAccepted: () => Promise<void>;
  toAgents: ToAgents;
  receiptToAgents: ReceiptToAgents;
}

/**
 * Hands the work owed after a webhook to `waitUntil`: the inbox worker, post-call flows and the
 * Genesys bridge's forwards and receipts (one
 * call's flows in order; different people in parallel). A failure is logged and never escapes:
 * what it was doing stays owed (the inbox row, the unnotified call) for the retry path.
 */
export function scheduleFollowUps(
  deps: FollowUpDeps,
  followUps: FollowUp[],
  log: Logger,
  correlationId: string,
): void {
  const byPerson = new Map<string, FollowUp[]>();
  for (const f of followUps) {
    const person = f.kind === "inbox"
      ? ""
      : f.kind === "agents"
      ? f.message.sender
      : f.kind === "receipt"
      ? f.to
      : f.phoneNumber;
    byPerson.set(person, [...(byPerson.get(person) ?? []), f]);
  }
  for (const queue of byPerson.values()) {
    deps.waitUntil((async () => {
      for (const f of queue) {
        try {
          if (f.kind === "inbox") await deps.onAccepted();
          else if (f.kind === "agents") await deps.toAgents(f.message, f.recorded, f.account);
          else if (f.kind === "receipt") await deps.receiptToAgents(f.deliveryId, f.update);
          else {
            await notifyAfterCall(deps, {
              callId: f.callId,
              phoneNumber: f.phoneNumber,
              summary: null,
              correlationId,
            });
          }
        } catch (err) {
          log.error("WHATSAPP_FOLLOW_UP_FAILED", {
            kind: f.kind,
            ...(f.kind === "inbox"
              ? {}
              : f.kind === "agents"
              ? { delivery_id: f.recorded.deliveryId }
              : f.kind === "receipt"
              ? { delivery_id: f.deliveryId }
              : { call_id: f.callId }),
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
    })());
  }
}
