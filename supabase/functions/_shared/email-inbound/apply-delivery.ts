import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { recordDeliveryStatus, type StatusUpdate } from "../outbound/delivery-status.ts";
import type { DeliveryEvent } from "./events.ts";

export interface DeliveryOutcome {
  matched: boolean;
  status: string | null;
  /** The address now gets no email (a hard bounce or a complaint). */
  suppressed?: "bounced" | "complained";
}

/**
 * A Resend delivery event on an email we sent. Statuses only move forward (the status guard in
 * SQL): sent → delivered → read (opened / clicked); a delay is noted on the row without moving
 * it. A permanent bounce fails the row (EMAIL.BOUNCED) and suppresses the address, so nothing
 * more is sent to it; a transient one fails the row as retryable. A complaint leaves the row
 * delivered, suppresses the address and opts the person out of email.
 */
export async function applyDeliveryEvent(
  deps: { sql: Sql; logger: Logger },
  event: DeliveryEvent,
  correlationId: string,
): Promise<DeliveryOutcome> {
  const { data } = event;
  const at = event.created_at ?? new Date().toISOString();
  const log = deps.logger.child({
    correlation_id: correlationId,
    provider_message_id: data.email_id,
  });
  const update = statusOf(event, at);
  const outcome = await recordDeliveryStatus(deps.sql, {
    channel: "email",
    providerMessageId: data.email_id,
    ...update,
  });
  const result: DeliveryOutcome = { matched: outcome.matched, status: outcome.currentStatus };
  const permanentBounce = event.type === "email.bounced" && update.errorClass === "permanent";
  if (permanentBounce || event.type === "email.complained") {
    const reason = event.type === "email.complained" ? "complained" : "bounced";
    for (const address of data.to) {
      await rpcValue(deps.sql, "suppress_email_address", {
        p_address: address,
        p_reason: reason,
        p_detail: data.bounce?.message ?? undefined,
        p_provider_message_id: data.email_id,
      });
    }
    result.suppressed = reason;
    log.warn(reason === "bounced" ? "EMAIL_ADDRESS_BOUNCED" : "EMAIL_COMPLAINT", {
      delivery_id: outcome.deliveryId,
    });
  }
  log.info("EMAIL_STATUS_APPLIED", {
    event: event.type,
    matched: outcome.matched,
    delivery_id: outcome.deliveryId,
    previous_status: outcome.previousStatus,
    current_status: outcome.currentStatus,
  });
  return result;
}

type Update = Omit<StatusUpdate, "channel" | "providerMessageId">;

function statusOf(event: DeliveryEvent, at: string): Update {
  const { data } = event;
  switch (event.type) {
    case "email.sent":
      return { status: "sent" };
    case "email.delivered":
      return { status: "delivered", metadata: { delivered_at: at } };
    case "email.delivery_delayed":
      return { status: "sent", metadata: { delivery_delayed_at: at } };
    case "email.opened":
      return { status: "read", metadata: { opened_at: at } };
    case "email.clicked":
      return { status: "read", metadata: { clicked_at: at } };
    case "email.complained":
      return { status: "delivered", metadata: { complained_at: at } };
    case "email.bounced": {
      const permanent = (data.bounce?.type ?? "Permanent").toLowerCase() !== "transient";
      return {
        status: "failed",
        errorCode: permanent ? "EMAIL.BOUNCED" : "EMAIL.SOFT_BOUNCED",
        errorClass: permanent ? "permanent" : "retryable",
        errorMessage: (data.bounce?.message ?? "The email bounced").slice(0, 500),
        metadata: {
          bounce: { type: data.bounce?.type ?? null, sub_type: data.bounce?.subType ?? null },
        },
      };
    }
    case "email.failed":
      return {
        status: "failed",
        errorCode: "EMAIL.FAILED",
        errorClass: "permanent",
        errorMessage: (data.failed?.reason ?? "Resend could not send the email").slice(0, 500),
      };
  }
}
