import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import {
  type InboundForReply,
  type InboundToReply,
  type ReplyDeps,
  replyToInbound,
} from "../conversations/reply-to-inbound.ts";

/** A message the worker derived from the inbox: its rows, and whether it is owed a reply. */
export interface DerivedInbound {
  inboxId: string;
  needsReply: boolean;
  inbound: InboundForReply;
}

const REPLY_CHANNELS = new Set<string>(["whatsapp", "sms"]);

/**
 * One round of the inbox worker, one round trip: claims up to `limit` owed inbox rows (skip
 * locked), derives their profiles, sessions and messages (public.record_inbound_messages) and
 * marks them processed, in one transaction (public.process_inbound_inbox). Empty when nothing
 * is owed.
 */
export async function processInbox(sql: Sql, limit = 100): Promise<DerivedInbound[]> {
  const rows = await rpc(sql, "process_inbound_inbox", { p_limit: limit });
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
    },
  }));
}

export interface DrainInboxDeps {
  sql: Sql;
  logger: Logger;
  /** The AI reply for one new message that needs one (replyToInbound, in the worker). */
  onInbound: (inbound: InboundForReply) => Promise<void>;
  /** Rows per round (default 100). */
  limit?: number;
  /** After each round's derivation, before its replies run. */
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
  /** Stopped at the deadline after a full round: more may be owed. */
  more: boolean;
}

/**
 * The inbox worker: round after round until nothing is owed, derives a batch (processInbox) and
 * runs its replies: one person's in order (two messages in one batch are answered in turn, not
 * racing for the same session), different people in parallel. A reply that fails is logged and
 * stays pending for the retry path (replyPending); it never stops the drain.
 */
export async function drainInbox(deps: DrainInboxDeps): Promise<DrainInboxResult> {
  const result: DrainInboxResult = { derived: 0, replies: 0, more: false };
  const now = deps.now ?? Date.now;
  const limit = deps.limit ?? 100;
  for (;;) {
    if (deps.deadline !== undefined && now() >= deps.deadline) return result;
    const batch = await processInbox(deps.sql, limit);
    result.more = batch.length === limit;
    if (batch.length === 0) return result;
    result.derived += batch.length;
    deps.onDerived?.(batch);
    const owed = batch.filter((d) =>
      d.inbound.isNew && d.needsReply && REPLY_CHANNELS.has(d.inbound.channel)
    );
    result.replies += owed.length;
    await replyInOrder(deps, owed.map((d) => d.inbound));
  }
}

async function replyInOrder(deps: DrainInboxDeps, owed: InboundForReply[]): Promise<void> {
  const byPerson = new Map<string, InboundForReply[]>();
  for (const i of owed) byPerson.set(i.sender, [...(byPerson.get(i.sender) ?? []), i]);
  await Promise.all([...byPerson.values()].map(async (queue) => {
    for (const inbound of queue) {
      try {
        await deps.onInbound(inbound);
      } catch (err) {
        deps.logger.error("INBOX_REPLY_FAILED", {
          delivery_id: inbound.deliveryId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }));
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
      onInbound: async (inbound) => void await replyToInbound(replies, inbound),
    });
}
