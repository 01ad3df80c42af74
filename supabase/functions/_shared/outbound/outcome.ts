import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import type { SendResult } from "./adapter.ts";
import { batchedPerPool } from "../db/tick-batch.ts";

export interface RecordedOutcome {
  /**
   * sent; queued = a retry is scheduled; unknown = no answer in time (the provider may have it),
   * a retry waits for its status callback first; failed = for good.
   */
  status: "sent" | "queued" | "unknown" | "failed";
  attempts: number;
  nextAttemptAt: Date | null;
  /** The SMS fallback queued by this failure, if any. */
  fallbackId: string | null;
}

export interface OutcomeItem {
  deliveryId: string;
  result: SendResult;
  body?: string | null;
  messageType?: string;
  metadata?: Record<string, unknown>;
  senderKey?: string | null;
}

/**
 * Records a provider's answer for one outbound row (one round trip). The database applies the
 * retry policy: a retryable failure within it keeps the row queued with its next attempt time.
 */
export async function recordOutcome(
  sql: Sql,
  deliveryId: string,
  result: SendResult,
  extra: Omit<OutcomeItem, "deliveryId" | "result"> = {},
): Promise<RecordedOutcome> {
  const [outcome] = await recordOutcomes(sql, [{ deliveryId, result, ...extra }]);
  return outcome;
}

/** Attempts to write outcomes before parking them, and the pause before each retry (ms). */
const RECORD_BACKOFF_MS = [100, 400, 1_600];
const pauseFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Many outcomes in one round trip, in order (a dispatcher's batch for one sender). The provider
 * has already answered, so a failed write must never lead to a second send: it is retried
 * (bounded, with backoff), then each row is parked by its ids alone (sent with the provider id,
 * or unknown), so dispatch does not send it again. Only when even that fails (the database
 * unreachable throughout) does the error reach the caller.
 */
export function recordOutcomes(
  sql: Sql,
  items: OutcomeItem[],
  sleep: (ms: number) => Promise<void> = pauseFor,
): Promise<RecordedOutcome[]> {
  return recordWith(writeOutcomes, sql, items, sleep);
}

/**
 * recordOutcomes for one of many concurrent requests (post-call's two channels): the outcomes
 * of the requests whose sends finished in the same event-loop turn are written in one call of
 * record_outbound_outcomes, one statement and one commit, and each request gets its own back.
 * The function locks the rows of the whole list in key order, so two such lists never wait on
 * each other crosswise. A list that fails for any reason but the database being unavailable is
 * written again request by request (batchedPerPool), so only the request it was about fails;
 * then the same retries and parking as recordOutcomes.
 */
export function recordOutcomesGrouped(
  sql: Sql,
  items: OutcomeItem[],
  sleep: (ms: number) => Promise<void> = pauseFor,
): Promise<RecordedOutcome[]> {
  return recordWith(writeGrouped, sql, items, sleep);
}

const writeGrouped = batchedPerPool<OutcomeItem[], RecordedOutcome[]>(
  writeOutcomes,
  async (sql, lists) => {
    const all = await writeOutcomes(sql, lists.flat());
    let at = 0;
    return lists.map((list) => all.slice(at, at += list.length));
  },
);

async function recordWith(
  write: (sql: Sql, items: OutcomeItem[]) => Promise<RecordedOutcome[]>,
  sql: Sql,
  items: OutcomeItem[],
  sleep: (ms: number) => Promise<void>,
): Promise<RecordedOutcome[]> {
  if (items.length === 0) return [];
  let lastError: unknown;
  for (const pause of [0, ...RECORD_BACKOFF_MS]) {
    if (pause) await sleep(pause);
    try {
      return await write(sql, items);
    } catch (err) {
      lastError = err;
    }
  }
  try {
    return await parkOutcomes(sql, items);
  } catch {
    throw lastError;
  }
}

async function parkOutcomes(sql: Sql, items: OutcomeItem[]): Promise<RecordedOutcome[]> {
  const out: RecordedOutcome[] = [];
  for (const { deliveryId, result } of items) {
    const status = await rpcValue(sql, "park_outbound_outcome", {
      p_delivery_id: deliveryId,
      p_provider: result.provider,
      ...(result.ok && result.providerMessageId
        ? { p_provider_message_id: result.providerMessageId }
        : {}),
    });
    out.push({
      status: status === "sent" ? "sent" : "unknown",
      attempts: 0,
      nextAttemptAt: null,
      fallbackId: null,
    });
  }
  return out;
}

async function writeOutcomes(sql: Sql, items: OutcomeItem[]): Promise<RecordedOutcome[]> {
  const payload = items.map((
    { deliveryId, result: r, body, messageType, metadata, senderKey },
  ) => ({
    delivery_id: deliveryId,
    sent: r.ok,
    provider: r.provider,
    // Twilio's TwiML reply is sent by Twilio, whose message id this request never sees.
    provider_message_id: r.ok && r.providerMessageId ? r.providerMessageId : null,
    body: body ?? null,
    message_type: messageType ?? null,
    metadata: metadata ?? null,
    error_code: r.ok ? null : r.error.code,
    error_class: r.ok ? null : r.error.class,
    error_message: r.ok ? null : r.error.message,
    not_on_channel: !r.ok && Boolean(r.error.notOnChannel),
    retry_after_ms: r.ok ? null : r.error.retryAfterMs ?? null,
    sender_key: senderKey ?? null,
  }));
  const rows = await rpc(sql, "record_outbound_outcomes", { p_outcomes: payload as Json });
  return rows.sort((a, b) => a.ordinal - b.ordinal).map((row) => ({
    status: row.status as RecordedOutcome["status"],
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at ? new Date(row.next_attempt_at) : null,
    fallbackId: row.fallback_id,
  }));
}
