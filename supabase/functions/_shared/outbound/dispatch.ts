import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { SendResult } from "./adapter.ts";
import type { Pacer } from "./pacing.ts";
import type { OutboxRow, Sender, SenderDirectory } from "./senders.ts";
import { type RecordedOutcome, recordOutcomes } from "./outcome.ts";
import { sendEvent } from "./send.ts";

export interface DispatchDeps {
  sql: Sql;
  logger: Logger;
  senders: SenderDirectory;
  pacer: Pacer;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DispatchOptions {
  /** Rows claimed per round. */
  batchSize: number;
  /** A crashed dispatcher's rows are due again after this. */
  leaseSeconds: number;
  /** Stop claiming after this; rows without a pacing token by then are given back. */
  timeBudgetMs: number;
  correlationId: string;
}

export interface DispatchReport {
  claimed: number;
  sent: number;
  retry_scheduled: number;
  failed: number;
  /** Claimed but given back without a send: no pacing token within the time budget. */
  deferred: number;
  throttled: number;
  rounds: number;
  elapsed_ms: number;
}

interface Claimed extends OutboxRow {
  attempts: number;
}

/**
 * Drains due outbound rows: claims a batch (`for update skip locked` under a lease), sends each
 * through its sender's pacing bucket, records every outcome (sent, retry scheduled with backoff,
 * or failed for good), and repeats until nothing is due or the time budget is spent. Several
 * dispatchers at once never send the same row: a claimed row is leased to one of them.
 */
export async function dispatchDue(
  deps: DispatchDeps,
  opts: DispatchOptions,
): Promise<DispatchReport> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const deadline = started + opts.timeBudgetMs;
  const log = deps.logger.child({ correlation_id: opts.correlationId });
  const report: DispatchReport = {
    claimed: 0,
    sent: 0,
    retry_scheduled: 0,
    failed: 0,
    deferred: 0,
    throttled: 0,
    rounds: 0,
    elapsed_ms: 0,
  };

  while (now() < deadline) {
    // A row whose person opted out since it was queued comes back blocked from its claim.
    const claimed = await rpc(deps.sql, "claim_due_deliveries", {
      p_limit: opts.batchSize,
      p_lease_seconds: opts.leaseSeconds,
    });
    const rows = claimed.filter((row) => row.status === "queued") as unknown as Claimed[];
    if (claimed.length === 0) break;
    report.rounds++;
    report.claimed += rows.length;

    const groups = new Map<string, { sender: Sender; rows: Claimed[] }>();
    const unroutable: Claimed[] = [];
    for (const row of rows) {
      const sender = deps.senders.resolve(row.channel, row.sender_key);
      if (!sender) {
        unroutable.push(row);
        continue;
      }
      const g = groups.get(sender.key) ?? { sender, rows: [] };
      g.rows.push(row);
      groups.set(sender.key, g);
    }
    await finish(
      deps,
      report,
      log,
      null,
      unroutable.map((row) => ({
        row,
        result: {
          ok: false,
          provider: row.channel,
          error: {
            class: "permanent",
            code: "DISPATCH.NO_SENDER",
            message: `No sender for ${row.channel} ${row.sender_key ?? ""}`.trim(),
          },
        },
      })),
    );
    await Promise.all(
      [...groups.values()].map((g) =>
        drainGroup(deps, report, log, g.sender, g.rows, deadline, now, sleep)
      ),
    );
  }
  report.elapsed_ms = now() - started;
  log.info("DISPATCH_DONE", { ...report });
  return report;
}

/**
 * Sends one sender's rows as fast as its bucket allows; what is left at the deadline goes back.
 * A pacing token is one provider call: one row, or for a sender that batches (email), up to its
 * batch size of rows in one call, each row still recorded with its own result.
 */
async function drainGroup(
  deps: DispatchDeps,
  report: DispatchReport,
  log: Logger,
  sender: Sender,
  rows: Claimed[],
  deadline: number,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
) {
  const queue = callsOf(sender, rows);
  const inFlight: Promise<void>[] = [];
  while (queue.length > 0) {
    const { granted, waitMs } = await deps.pacer.take(sender, queue.length);
    const chunk = queue.splice(0, granted);
    if (chunk.length > 0) {
      // The chunk's calls run in parallel; their outcomes are recorded together (one round trip).
      inFlight.push((async () => {
        const sent = (await Promise.all(chunk.map((call) => sendCall(sender, call)))).flat();
        const throttled = sent.filter((s) => !s.result.ok && s.result.error.throttled);
        if (throttled.length > 0) {
          report.throttled += throttled.length;
          const r = throttled[0].result;
          await deps.pacer.slowDown(sender.key, r.ok ? undefined : r.error.retryAfterMs);
        }
        await finish(deps, report, log, sender.key, sent);
      })());
    }
    if (queue.length === 0) break;
    if (now() + waitMs > deadline) {
      const ids = queue.splice(0).flat().map((r) => r.id);
      await rpcValue(deps.sql, "release_deliveries", { p_ids: ids });
      report.deferred += ids.length;
      break;
    }
    await sleep(Math.max(1, waitMs));
  }
  await Promise.all(inFlight);
}

/** The provider calls a sender's rows take: one per row, or batches of rows where it can. */
function callsOf(sender: Sender, rows: Claimed[]): Claimed[][] {
  const batch = sender.batch;
  if (!batch) return rows.map((row) => [row]);
  const together = rows.filter((row) => batch.batchable(row));
  const calls: Claimed[][] = rows.filter((row) => !batch.batchable(row)).map((row) => [row]);
  for (let i = 0; i < together.length; i += batch.max) {
    calls.push(together.slice(i, i + batch.max));
  }
  return calls;
}

async function sendCall(
  sender: Sender,
  call: Claimed[],
): Promise<{ row: Claimed; result: SendResult }[]> {
  if (call.length > 1 && sender.batch) {
    const results = await sender.batch.send(call);
    return call.map((row, i) => ({ row, result: results[i] }));
  }
  return [{ row: call[0], result: await sender.send(call[0]) }];
}

async function finish(
  deps: DispatchDeps,
  report: DispatchReport,
  log: Logger,
  senderKey: string | null,
  sent: { row: Claimed; result: SendResult }[],
) {
  const outcomes: RecordedOutcome[] = await recordOutcomes(
    deps.sql,
    sent.map(({ row, result }) => ({ deliveryId: row.id, result, senderKey })),
  );
  sent.forEach(({ row, result }, i) => {
    const outcome = outcomes[i];
    if (outcome.status === "sent") report.sent++;
    else if (outcome.status === "failed") report.failed++;
    else report.retry_scheduled++;
    if (result.ok) {
      log.debug(sendEvent(row.channel, outcome.status), {
        delivery_id: row.id,
        attempt: row.attempts,
      });
    } else {
      log.warn(sendEvent(row.channel, outcome.status), {
        delivery_id: row.id,
        attempt: row.attempts,
        error_code: result.error.code,
        error_class: result.error.class,
        next_attempt_at: outcome.nextAttemptAt,
      });
    }
  });
}
