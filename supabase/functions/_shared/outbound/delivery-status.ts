import type { Sql } from "../db/client.ts";
import type { Json } from "../db/database.types.ts";
import { rpc } from "../db/rpc.ts";
import type { JsonObject } from "../types/json.ts";
import type { InboundChannel } from "../conversations/record-inbound.ts";

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
  const payload = updates.map((u) => ({
    channel: u.channel,
    provider_message_id: u.providerMessageId,
    delivery_id: u.deliveryId ?? null,
    status: u.status,
    error_code: u.errorCode ?? null,
    error_message: u.errorMessage ?? null,
    error_class: u.errorClass ?? null,
    not_on_channel: u.notOnChannel ?? false,
    metadata: u.metadata ?? {},
  }));
  const rows = await rpc(sql, "record_delivery_statuses", { p_updates: payload as Json });
  return rows.sort((a, b) => a.ordinal - b.ordinal).map((r) => ({
    matched: r.matched,
    deliveryId: r.delivery_id,
    previousStatus: r.previous_status,
    currentStatus: r.current_status,
  }));
}
