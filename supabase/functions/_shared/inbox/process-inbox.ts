import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { logStatusOutcome, statusOf } from "../outbound/delivery-status.ts";
import {
  type InboundForReply,
  type InboundToReply,
  REPLY_LEASE_SECONDS,
  type ReplyDeps,
  replyingWith,
} from "../conversations/reply-to-inbound.ts";

/** A message the worker derived from the inbox: its rows, and whether it is owed a reply. */
export interface DerivedInbound {
  inboxId: string;
  needsReply: boolean;
  inbound: InboundForReply;
}

/** The channels the worker answers: process_inbound_inbox claims the same ones (p_claim_seconds). */
const REPLY_CHANNELS = new Set<string>(["whatsapp", "sms"]);

/**
 * One round of the inbox worker, one round trip: claims up to `limit` owed inbox rows (skip
 * locked), derives their profiles, sessions and messages (public.record_inbound_messages) and
 * marks them processed, in one transaction (public.process_inbound_inbox). Empty when nothing
 * is owed. With `claimSeconds` (a caller that answers what it derives), the WhatsApp and SMS
 * messages owed a reply are written already claimed for that long, and each carries its claim
 * (`inbound.claimedUntil`) for the reply to present.
 */
export async function processInbox(
  sql: Sql,
  limit = 100,
  claimSeconds?: number,
): Promise<DerivedInbound[]> {
  const rows = await rpc(sql, "process_inbound_inbox", {
    p_limit: limit,
    p_claim_seconds: claimSeconds,
  });
  return rows.map((r) => ({
    inboxId: String(r.inbox_id),
    needsReply: r.needs_reply,
    inbound: {
      deliveryId: r.delivery_id,
      sessionId: r.session_id,
      profileId: r.profile_id,
      isNew: r.is_new,
      allowsSms: r.allows_sms,
      channel: r.channel as InboundToReply["channel"],
      sender: r.sender,
      correlationId: r.correlation_id ?? `inbox:${r.inbox_id}`,
      ...(r.claimed_until ? { claimedUntil: r.claimed_until } : {}),
    },
  }));
}

/**
 * One round of the status worker, one round trip: claims up to `limit` owed statuses from
 * public.status_inbox (skip locked), applies them (public.record_delivery_statuses: forward only,
 * the fallback on failed) and marks them processed, in one transaction; logs each outcome.
 * Answers how many it applied.
 */
export async function processStatusInbox(sql: Sql, log: Logger, limit = 500): Promise<number> {
  const rows = await rpc(sql, "process_status_inbox", { p_limit: limit });
  for (const r of rows) {
    logStatusOutcome(log, statusOf(r.payload as Record<string, unknown>), {
      matched: r.matched,
      deliveryId: r.delivery_id,
      previousStatus: r.previous_status,
      currentStatus: r.current_status,
    });
  }
  return rows.length;
}

export interface DrainInboxDeps {
  sql: Sql;
  logger: Logger;
  /** The AI reply for one new message that needs one (replyToInbound, in the worker). */
  onInbound: (inbound: InboundForReply) => Promise<void>;
  /** Rows per round (default 100). */
  limit?: number;
  /**
   * The replies' lease in seconds, taken as their messages are derived (the reply then writes
   * the inbound row once, when it completes, not twice). Unset: derived pending, and each
   * reply claims its message itself.
   */
  claimSeconds?: number;
  /** Statuses per round (default 500). */
  statusLimit?: number;
  /**
   * Replies running at once (default: `limit`). The next round is derived while replies run,
   * until this many are in flight; then it waits for one to finish.
   */
  maxReplies?: number;
  /** After each round's derivation, before its replies start. */
  onDerived?: (batch: DerivedInbound[]) => void;
  /** No new round starts after this time (epoch ms): the caller's time budget. */
  deadline?: number;
  now?: () => number;
}

export interface DrainInboxResult {
  /** Messages derived from the inbox (duplicates of rows recorded another way included). */
  derived: number;
  /** Of those, handed to the reply path. */
  replies: number;
  /** Delivery statuses applied from the status inbox. */
  statuses: number;
  /** Stopped at the deadline after a full round: more may be owed. */
  more: boolean;
}

/**
 * The inbox worker: round after round until nothing is owed, applies a batch of delivery
 * statuses (processStatusInbox), derives a batch of messages (processInbox) and
 * starts its replies without waiting for them, so the next round is derived while they run (at
 * most `maxReplies` at once). One person's replies run in order, across rounds too (two messages
 * are answered in turn, never racing for the same session); different people's in parallel.
 * Resolves once every reply it started has finished. A reply that fails is logged and stays
 * pending for the retry path (replyPending); it never stops the drain.
 */
export async function drainInbox(deps: DrainInboxDeps): Promise<DrainInboxResult> {
  const result: DrainInboxResult = { derived: 0, replies: 0, statuses: 0, more: false };
  const now = deps.now ?? Date.now;
  const limit = deps.limit ?? 100;
  const maxReplies = Math.max(1, deps.maxReplies ?? limit);
  const running = new Set<Promise<void>>();
  // Each person's last reply: the next one of theirs starts after it.
  const last = new Map<string, Promise<void>>();
  const start = (inbound: InboundForReply) => {
    const after = last.get(inbound.sender) ?? Promise.resolve();
    const reply: Promise<void> = after.then(() => replyLogged(deps, inbound)).finally(() => {
      running.delete(reply);
      if (last.get(inbound.sender) === reply) last.delete(inbound.sender);
    });
    last.set(inbound.sender, reply);
    running.add(reply);
  };
  try {
    for (;;) {
      if (deps.deadline !== undefined && now() >= deps.deadline) return result;
      while (running.size >= maxReplies) await Promise.race(running);
      // Statuses first: applying them is quick, and a reply never waits behind them for long.
      const statusLimit = deps.statusLimit ?? 500;
      const statuses = await processStatusInbox(deps.sql, deps.logger, statusLimit);
      result.statuses += statuses;
      const batch = await processInbox(deps.sql, limit, deps.claimSeconds);
      result.more = batch.length === limit || statuses === statusLimit;
      if (batch.length === 0 && statuses === 0) return result;
      if (batch.length === 0) continue;
      result.derived += batch.length;
      deps.onDerived?.(batch);
      const owed = batch.filter((d) =>
        d.inbound.isNew && d.needsReply && REPLY_CHANNELS.has(d.inbound.channel)
      );
      result.replies += owed.length;
      for (const d of owed) start(d.inbound);
    }
  } finally {
    while (running.size > 0) await Promise.all(running);
  }
}

async function replyLogged(deps: DrainInboxDeps, inbound: InboundForReply): Promise<void> {
  try {
    await deps.onInbound(inbound);
  } catch (err) {
    deps.logger.error("INBOX_REPLY_FAILED", {
      delivery_id: inbound.deliveryId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** The inbox worker of a function that writes replies (agent-worker; dispatch as the safety net). */
export function inboxWorkerOf(
  replies: ReplyDeps,
  limit?: number,
): (deadline?: number) => Promise<DrainInboxResult> {
  return (deadline) =>
    drainInbox({
      sql: replies.sql,
      logger: replies.logger,
      limit,
      deadline,
      claimSeconds: replies.leaseSeconds ?? REPLY_LEASE_SECONDS,
      onInbound: replyingWith(replies),
    });
}
