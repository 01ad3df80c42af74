import type { Sql } from "../db/client.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import {
  recordDeliveryStatuses,
  type StatusOutcome,
  type StatusUpdate,
} from "../outbound/delivery-status.ts";
import { createTickBatcher, ItemFailure, type TickBatcher } from "./tick-batch.ts";

/**
 * recordDeliveryStatuses for webhooks under load: the status updates of the requests that arrive
 * in the same event-loop turn go to the database in one call and one commit, in arrival order;
 * each request gets its own outcomes back once that commit is done. As with inbound messages, a
 * database failure fails every request of the batch (statuses are idempotent and forward only,
 * so redelivery is safe); any other failure is retried request by request, so only the request
 * that caused it fails.
 */
const batchers = new WeakMap<Sql, TickBatcher<StatusUpdate[], StatusOutcome[]>>();

export function recordDeliveryStatusesBatched(
  sql: Sql,
  updates: StatusUpdate[],
): Promise<StatusOutcome[]> {
  if (updates.length === 0) return Promise.resolve([]);
  let batcher = batchers.get(sql);
  if (!batcher) {
    batcher = createTickBatcher((groups) => recordGroups(sql, groups));
    batchers.set(sql, batcher);
  }
  return batcher.add(updates);
}

async function recordGroups(
  sql: Sql,
  groups: StatusUpdate[][],
): Promise<(StatusOutcome[] | ItemFailure)[]> {
  if (groups.length === 1) return [await recordDeliveryStatuses(sql, groups[0])];
  let outcomes: StatusOutcome[];
  try {
    outcomes = await recordDeliveryStatuses(sql, groups.flat());
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err;
    return await Promise.all(
      groups.map((g) => recordDeliveryStatuses(sql, g).catch((e) => new ItemFailure(e))),
    );
  }
  let at = 0;
  return groups.map((g) => outcomes.slice(at, at += g.length));
}
