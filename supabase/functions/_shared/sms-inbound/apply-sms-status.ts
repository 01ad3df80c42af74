import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import { recordDeliveryStatus } from "../outbound/delivery-status.ts";
import type { SmsStatusEvent } from "./types.ts";

export interface SmsStatusOutcome {
  result: "applied" | "unknown_message" | "ignored";
  /** The row's status afterwards: unchanged when the callback came late (delivered, then sent). */
  status?: string;
}

/**
 * A delivery callback for an SMS we sent: moves its row forward (never back; the table's
 * trigger decides). A callback for an id we never logged (another system on the same number)
 * or a status that moves nothing (queued, uncertain) is logged and answered 200, since
 * providers retry anything else for days.
 */
export async function applySmsStatus(
  deps: { sql: Sql; logger: Logger },
  event: SmsStatusEvent,
  correlationId: string,
): Promise<SmsStatusOutcome> {
  const log = deps.logger.child({
    correlation_id: correlationId,
    provider: event.provider,
    provider_status: event.providerStatus,
  });
  if (!event.status) {
    log.info("SMS_STATUS_IGNORED", { provider_message_ids: event.providerMessageIds });
    return { result: "ignored" };
  }
  for (const providerMessageId of event.providerMessageIds) {
    const out = await recordDeliveryStatus(deps.sql, {
      channel: "sms",
      providerMessageId,
      deliveryId: event.deliveryId,
      status: event.status,
      errorCode: event.errorCode,
      errorMessage: event.errorMessage,
      errorClass: event.errorClass,
      metadata: event.status === "failed" ? { provider_status: event.providerStatus } : undefined,
    });
    if (out.matched) {
      log.info("SMS_STATUS_APPLIED", {
        delivery_id: out.deliveryId,
        previous_status: out.previousStatus,
        current_status: out.currentStatus,
      });
      return { result: "applied", status: out.currentStatus ?? undefined };
    }
  }
  log.info("SMS_STATUS_UNKNOWN_MESSAGE", { provider_message_ids: event.providerMessageIds });
  return { result: "unknown_message" };
}
