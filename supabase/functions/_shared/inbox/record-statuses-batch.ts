import type { Sql } from "../db/client.ts";
import {
  recordDeliveryStatuses,
  type StatusOutcome,
  type StatusUpdate,
} from "../outbound/delivery-status.ts";
import { batchedPerPool } from "./tick-batch.ts";

/**
 * recordDeliveryStatuses for webhooks under load: the status updates of the requests that arrive
 * in the same event-loop turn go to the database in one call and one commit, in arrival order;
 * each request gets its own outcomes back once that commit is done (failures: batchedPerPool;
 * statuses are idempotent and forward only, so redelivery is safe).
 */
const recordBatched = batchedPerPool<StatusUpdate[], StatusOutcome[]>(
  recordDeliveryStatuses,
  async (sql, groups) => {
    const outcomes = await recordDeliveryStatuses(sql, groups.flat());
    let at = 0;
    return groups.map((g) => outcomes.slice(at, at += g.length));
  },
);

export function recordDeliveryStatusesBatched(
  sql: Sql,
  updates: StatusUpdate[],
): Promise<StatusOutcome[]> {
  return updates.length === 0 ? Promise.resolve([]) : recordBatched(sql, updates);
}
