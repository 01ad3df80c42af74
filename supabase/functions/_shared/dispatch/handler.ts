import { z } from "zod";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { validated } from "../http/validated.ts";
import { rpcValue } from "../db/rpc.ts";
import { type DispatchDeps, dispatchDue } from "../outbound/dispatch.ts";
import { type ReplyDeps, replyPending } from "../conversations/reply-to-inbound.ts";
import type { DrainInboxResult } from "../inbox/process-inbox.ts";
import type { NotifyAfterCallDeps } from "../notifications/notify-after-call.ts";
import { recoverUnnotifiedCalls } from "../notifications/recover-calls.ts";
import type { GenesysOutbox } from "../genesys/outbox.ts";
import type { Sql } from "../db/client.ts";

const Body = z.object({
  batch_size: z.number().int().min(1).max(1000).optional(),
  time_budget_ms: z.number().int().min(100).max(140_000).optional(),
  /** Also recover AI replies never written and post-call flows never run (default true). */
  replies: z.boolean().optional(),
}).strict();

export interface DispatchHandlerDeps extends DispatchDeps {
  auth: AuthConfig;
  replies?: ReplyDeps;
  /**
   * The inbox worker: statuses never applied and messages never derived (a webhook that died
   * before its kick). Each tick also purges one batch of inbox rows processed longer than
   * `inboxRetentionDays` ago (default 7).
   */
  inbox?: (deadline?: number) => Promise<DrainInboxResult>;
  inboxRetentionDays?: number;
  /** Runs the post-call flow of WhatsApp calls that ended without one (a crash after the 200). */
  postCall?: NotifyAfterCallDeps;
  /** Posts to Genesys that are due (first tries that failed, 429/5xx/timeouts backing off). */
  genesys?: Pick<GenesysOutbox, "drain">;
  /** Housekeeping: archived webhook bodies past their retention, a batch per tick. */
  archive?: { sql: Sql; retentionDays: number; batchSize: number };
  defaults: { batchSize: number; timeBudgetMs: number; leaseSeconds: number };
}

/**
 * `POST /dispatch` (secret key, legacy service role, or an operator): sends due outbox rows within a time budget and recovers AI
 * replies left pending. Called every minute by pg_cron + pg_net (or the local stack), and by
 * hand after `select public.retry_delivery(<id>)`.
 */
export function createDispatchHandler(deps: DispatchHandlerDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    await authenticate(req, deps.auth);
    const raw = await readRawBody(req);
    const body = validated(Body, raw.byteLength ? parseJson(raw) : {});
    const recover = body.replies !== false;
    const budget = body.time_budget_ms ?? deps.defaults.timeBudgetMs;
    const [deliveries, replies, calls, genesys, archive_purged] = await Promise.all([
      dispatchDue(deps, {
        batchSize: body.batch_size ?? deps.defaults.batchSize,
        timeBudgetMs: body.time_budget_ms ?? deps.defaults.timeBudgetMs,
        leaseSeconds: deps.defaults.leaseSeconds,
        correlationId,
      }),
      deps.replies && recover
        ? (async () => {
          const budget = body.time_budget_ms ?? deps.defaults.timeBudgetMs;
          const inbox = deps.inbox ? await deps.inbox(Date.now() + budget) : null;
          const pending = await replyPending(deps.replies!, { olderThanSeconds: 60, limit: 20 });
          if (!inbox) return pending;
          // Housekeeping: one batch of inbox rows processed longer ago than the retention.
          const purged = await rpcValue(deps.replies!.sql, "purge_processed_inboxes", {
            p_retention: `${deps.inboxRetentionDays ?? 7} days`,
          });
          return {
            ...pending,
            derived: inbox.derived,
            inbox_replies: inbox.replies,
            statuses: inbox.statuses,
            inbox_purged: purged,
          };
        })()
        : null,
      deps.postCall && recover
        ? recoverUnnotifiedCalls(deps.postCall, { olderThanSeconds: 120, limit: 20, correlationId })
        : null,
      deps.genesys ? deps.genesys.drain(Date.now() + budget) : null,
      deps.archive
        ? rpcValue(deps.archive.sql, "purge_webhook_archive", {
          p_retention: `${deps.archive.retentionDays} days`,
          p_batch_size: deps.archive.batchSize,
        })
        : null,
    ]);
    return json({ deliveries, replies, calls, genesys, archive_purged });
  });
}
