import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import {
  recordDeliveryStatuses,
  statusJson,
  type StatusOutcome,
  type StatusUpdate,
} from "../outbound/delivery-status.ts";
import { batchedPerPool } from "../db/tick-batch.ts";

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

/**
 * THE status pipeline of the WhatsApp webhook: durably accepts one request's status updates into
 * public.status_inbox (unique per message and status: a redelivered callback is a no-op) and
 * resolves once that is committed; the webhook answers 2xx after it. The statuses of the
 * requests that arrive in the same event-loop turn go in one statement and one commit. The inbox
 * worker (inbox/process-inbox.ts: agent-worker, kicked after the commit; dispatch as the safety
 * net) applies them with public.record_delivery_statuses, forward only.
 */
const acceptBatched = batchedPerPool<StatusUpdate[], void>(
  (sql, updates) => acceptStatuses(sql, updates),
  (sql, groups) => acceptStatuses(sql, groups.flat()).then(() => groups.map(() => undefined)),
);

async function acceptStatuses(sql: Sql, updates: StatusUpdate[]): Promise<void> {
  await rpcValue(sql, "accept_delivery_statuses", { p_updates: updates.map(statusJson) });
}

export function acceptDeliveryStatusesBatched(sql: Sql, updates: StatusUpdate[]): Promise<void> {
  return updates.length === 0 ? Promise.resolve() : acceptBatched(sql, updates);
}
