import type { Sql } from "../db/client.ts";
import type { Json } from "../db/database.types.ts";
import { rpc } from "../db/rpc.ts";
import type { JsonObject } from "../types/json.ts";
import type { InboundChannel } from "../conversations/record-inbound.ts";
import type { Logger } from "../log/logger.ts";

/** What a provider's status callback says about a message we sent. */
export interface StatusUpdate {
  channel: InboundChannel;
  providerMessageId: string;
  /** Our row id as the provider echoed it: finds a row that never learned its provider id. */
  deliveryId?: string;
  status: "sent" | "delivered" | "read" | "failed";
  errorCode?: string;
  errorMessage?: string;
  errorClass?: "retryable" | "permanent" | "window_closed";
  notOnChannel?: boolean;
  metadata?: JsonObject;
}

export interface StatusOutcome {
  matched: boolean;
  deliveryId: string | null;
  previousStatus: string | null;
  currentStatus: string | null;
}

/** Applies a delivery status callback; the status never moves backwards (a trigger enforces it). */
export async function recordDeliveryStatus(sql: Sql, u: StatusUpdate): Promise<StatusOutcome> {
  const [outcome] = await recordDeliveryStatuses(sql, [u]);
  return outcome;
}

/** Several status callbacks in one round trip, in order; one outcome per update. */
export async function recordDeliveryStatuses(
  sql: Sql,
  updates: StatusUpdate[],
): Promise<StatusOutcome[]> {
  if (updates.length === 0) return [];
  const payload = updates.map(statusJson);
  const rows = await rpc(sql, "record_delivery_statuses", { p_updates: payload as Json });
  return rows.sort((a, b) => a.ordinal - b.ordinal).map((r) => ({
    matched: r.matched,
    deliveryId: r.delivery_id,
    previousStatus: r.previous_status,
    currentStatus: r.current_status,
  }));
}

/** A status update as public.record_delivery_statuses (and the status inbox) takes it. */
export function statusJson(u: StatusUpdate): Json {
  return {
    channel: u.channel,
    provider_message_id: u.providerMessageId,
    delivery_id: u.deliveryId ?? null,
    status: u.status,
    error_code: u.errorCode ?? null,
    error_message: u.errorMessage ?? null,
    error_class: u.errorClass ?? null,
    not_on_channel: u.notOnChannel ?? false,
    metadata: (u.metadata ?? {}) as Json,
  };
}

/** The update a status_inbox payload holds (statusJson read back). */
export function statusOf(j: Record<string, unknown>): StatusUpdate {
  const opt = <T>(v: unknown) => (v === null || v === undefined ? undefined : v as T);
  return {
    channel: j.channel as StatusUpdate["channel"],
    providerMessageId: String(j.provider_message_id),
    deliveryId: opt<string>(j.delivery_id),
    status: j.status as StatusUpdate["status"],
    errorCode: opt<string>(j.error_code),
    errorMessage: opt<string>(j.error_message),
    errorClass: opt<StatusUpdate["errorClass"]>(j.error_class),
    notOnChannel: j.not_on_channel === true,
    metadata: opt<JsonObject>(j.metadata),
  };
}

/**
 * The log line of an applied status: <CHANNEL>_STATUS_UPDATED (a warning when it failed), or
 * <CHANNEL>_STATUS_UNKNOWN_MESSAGE when no row of ours has its id.
 */
export function logStatusOutcome(log: Logger, u: StatusUpdate, outcome: StatusOutcome): void {
  const channel = u.channel.toUpperCase();
  if (!outcome.matched) {
    log.info(`${channel}_STATUS_UNKNOWN_MESSAGE`, {
      provider_message_id: u.providerMessageId,
      status: u.status,
    });
    return;
  }
  log[u.status === "failed" ? "warn" : "info"](`${channel}_STATUS_UPDATED`, {
    provider_message_id: u.providerMessageId,
    delivery_id: outcome.deliveryId,
    status: u.status,
    previous_status: outcome.previousStatus,
    current_status: outcome.currentStatus,
    error_code: u.errorCode,
    error_class: u.errorClass,
    [`not_on_${u.channel}`]: u.notOnChannel || undefined,
  });
}
