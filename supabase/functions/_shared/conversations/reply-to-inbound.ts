import { type Agent, createAgent } from "../ai/agent.ts";
import { AgentError } from "../ai/errors.ts";
import { formatReply } from "../ai/format-reply.ts";
import { sendMessage, type SendMessageDeps } from "../outbound/send-message.ts";
import { type OutboundDeps, replySenderKeyOf } from "../outbound/send.ts";
import { type SessionRow, sessionSnapshotOf } from "../ai/agent.ts";
import type { HistoryEntry } from "../ai/prompt.ts";
import type { Platform } from "../platform/deps.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import { createSessionStore } from "../session/omnichannel-session.ts";
import type { RecordedInbound } from "./record-inbound.ts";
import { handleWhatsAppOptOut } from "./whatsapp-opt-out.ts";
import type { ReplyChannel } from "../ai/prompt.ts";
import { sendEmailReply } from "./reply-by-email.ts";
import {
  asksForHuman,
  forwardIfHandedOff,
  HANDOFF_NOTICE,
  type HandoffDeps,
  startHandoff,
} from "../genesys/handoff.ts";
import { bridgeOf } from "../genesys/wiring.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { HandoffRequest } from "../tools/context.ts";

/** How long a replier holds an inbound message before another may take it over, by default. */
export const REPLY_LEASE_SECONDS = 120;

export interface ReplyDeps extends SendMessageDeps {
  agent: Agent;
  /** How long a replier holds an inbound message before another may take it over (REPLY_LEASE_SECONDS). */
  leaseSeconds?: number;
  /**
   * The Genesys handoff (routing `ai_then_agent`): which number routes how, and the posts to
   * Genesys. Without it every WhatsApp message is answered by the AI.
   */
  handoff?: HandoffDeps;
}

/** An inbound message that was recorded (recordInbound) and may be owed a reply. */
export interface InboundToReply {
  deliveryId: string;
  sessionId: string;
  channel: ReplyChannel;
  /** E.164; Messenger/Instagram: the person's page-scoped id; email: the lower-cased address. */
  sender: string;
  correlationId: string;
  /**
   * The reply's claim, when the message was written already claimed for this caller (the inbox
   * worker's derivation: process_inbound_inbox's claimed_until): presented instead of claiming.
   */
  claimedUntil?: string;
}

/** A new inbound message a webhook just recorded, as it hands it to the reply path (`C`: its channel). */
export type InboundForReply<C extends InboundToReply["channel"] = InboundToReply["channel"]> =
  & RecordedInbound
  & InboundToReply
  & { channel: C };

export type ReplyOutcome =
  /** The agent's answer was sent (or its send attempted and logged). */
  | "replied"
  /** The model failed or timed out: the fallback was sent and the session set to follow_up. */
  | "fallback"
  /** Someone else holds or finished this reply (a duplicate webhook, another dispatcher). */
  | "not_claimed"
  /** STOP / START on WhatsApp: the preference changed and was confirmed; no agent. */
  | "keyword"
  /** The person opted out of this channel: no agent, nothing sent. */
  | "opted_out"
  /** The conversation went to human agents now (the person asked, or the AI handed off). */
  | "handed_off"
  /** The conversation is with human agents: the message went to Genesys, the AI stayed silent. */
  | "with_agents";

export const FALLBACK_REPLY =
  "Thanks for your message — a member of our team will get back to you shortly.";

/**
 * Answers one inbound message on the channel it came from, at most once: claims the reply, runs
 * the agent, sends its answer (or, when the model fails, a short fallback and the session goes
 * to follow_up so a person picks it up), and completes the claim. The send's idempotency key is
 * the inbound delivery id, so a reply retried after a crash never reaches the person twice.
 */
export async function replyToInbound(
  deps: ReplyDeps,
  inbound: InboundToReply,
): Promise<ReplyOutcome> {
  const log = deps.logger.child({
    correlation_id: inbound.correlationId,
    delivery_id: inbound.deliveryId,
    session_id: inbound.sessionId,
  });
  // One round trip: the claim (or the one the message was written with), and everything the
  // reply reads before the model is called.
  const [claim] = await rpc(deps.sql, "claim_inbound_reply_context", {
    p_delivery_id: inbound.deliveryId,
    p_lease_seconds: deps.leaseSeconds ?? REPLY_LEASE_SECONDS,
    p_claimed_until: inbound.claimedUntil,
  });
  if (!claim?.claimed) {
    log.info("AI_REPLY_NOT_CLAIMED");
    return "not_claimed";
  }
  if (inbound.channel === "whatsapp") {
    const handled = await handleWhatsAppOptOut(deps, inbound, log, {
      body: claim.body,
      allows_whatsapp: claim.allows_whatsapp,
    });
    if (handled) {
      await rpcValue(deps.sql, "complete_inbound_reply", {
        p_delivery_id: inbound.deliveryId,
        p_state: "skipped",
      });
      log.info("AI_REPLY_SKIPPED", { reason: handled });
      return handled;
    }
  }

  const account = await handoffAccountOf(deps, inbound, claim.reply_to);
  let handedOff: { postId: number } | null = null;
  if (account) {
    const postId = await forwardIfHandedOff(deps.handoff!, inbound.sessionId, inbound.deliveryId);
    if (postId !== null) {
      await rpcValue(deps.sql, "complete_inbound_reply", {
        p_delivery_id: inbound.deliveryId,
        p_state: "skipped",
      });
      log.info("AI_REPLY_SKIPPED", { reason: "with_agents" });
      await postToAgents(deps, [postId], log);
      return "with_agents";
    }
  }
  const handOff = account
    ? async (r: HandoffRequest & { requestedBy: "person" | "ai" }) => {
      const started = await startHandoff(deps.handoff!, {
        account,
        sessionId: inbound.sessionId,
        whatsappId: inbound.sender,
        deliveryId: inbound.deliveryId,
        requestedBy: r.requestedBy,
        reason: r.reason,
        summary: r.summary,
        context: (claim.session as { context?: Record<string, unknown> } | null)?.context,
        history: claim.history as unknown as HistoryEntry[],
      });
      handedOff = started;
      return started;
    }
    : undefined;

  let text: string;
  let outcome: ReplyOutcome = "replied";
  if (handOff && asksForHuman(claim.body)) {
    await handOff({
      sessionId: inbound.sessionId,
      reason: "The person asked for a human agent",
      requestedBy: "person",
    });
  }
  if (handedOff) {
    text = HANDOFF_NOTICE;
    outcome = "handed_off";
  } else {
    try {
      const answer = await deps.agent.reply({
        sessionId: inbound.sessionId,
        channel: inbound.channel,
        phoneNumber: await actingFor(deps, inbound),
        correlationId: inbound.correlationId,
        preloaded: claim.session
          ? {
            session: sessionSnapshotOf(claim.session as unknown as SessionRow),
            history: claim.history as unknown as HistoryEntry[],
          }
          : undefined,
        handoff: handOff && ((r) => handOff({ ...r, requestedBy: "ai" })),
      });
      text = formatReply(inbound.channel, answer.text);
      if (!text) throw new AgentError("AI.EMPTY_REPLY", "Nothing left to send once formatted");
    } catch (err) {
      log.warn("AI_REPLY_FALLBACK", {
        error_code: err instanceof AgentError ? err.code : "AI.AGENT_CRASHED",
        error: err instanceof Error ? err.message : String(err),
      });
      text = FALLBACK_REPLY;
      outcome = "fallback";
    }
    // The AI handed off through conversation_handoff: the person reads the handoff notice.
    if (handedOff) {
      text = HANDOFF_NOTICE;
      outcome = "handed_off";
    }
  }

  const sent = inbound.channel === "email"
    ? await sendEmailReply(deps, inbound, text)
    : await sendMessage(deps, {
      channel: inbound.channel,
      to: inbound.sender,
      body: text,
      sessionId: inbound.sessionId,
      purpose: "ai_reply",
      correlationId: inbound.correlationId,
      idempotencyKey: `ai_reply:${inbound.deliveryId}`,
      senderKey: replySenderKeyOf(deps, inbound.channel, claim.provider, claim.reply_to),
      // The claim is done with the reply's row (the outbox owns it from there); after a
      // fallback, only once the session is marked for follow-up.
      completesInbound: outcome === "fallback" ? undefined : inbound.deliveryId,
    });
  if (outcome === "fallback") await markFollowUp(deps, inbound.sessionId, log);
  if (!("completedInbound" in sent && sent.completedInbound)) {
    await rpcValue(deps.sql, "complete_inbound_reply", {
      p_delivery_id: inbound.deliveryId,
      p_state: "done",
    });
  }
  log[sent.status === "sent" ? "info" : "warn"]("AI_REPLY_COMPLETED", {
    outcome,
    channel: inbound.channel,
    status: sent.status,
    ...(sent.error ? { error_code: sent.error.code } : {}),
  });
  // After the notice, so the agent's first words never arrive before it.
  if (handedOff) await postToAgents(deps, [(handedOff as { postId: number }).postId], log);
  return outcome;
}

/**
 * The account of the number a WhatsApp message was written to, when it routes `ai_then_agent`
 * (the only routing where the reply path hands off); null otherwise.
 */
async function handoffAccountOf(
  deps: ReplyDeps,
  inbound: InboundToReply,
  replyTo: string | null,
): Promise<WhatsAppAccount | null> {
  if (inbound.channel !== "whatsapp" || !deps.handoff) return null;
  const account = await deps.handoff.whatsappAccount(replyTo);
  return account?.routing === "ai_then_agent" ? account : null;
}

/** A failed post stays owed (genesys_outbox) for the dispatch tick: never the reply's failure. */
async function postToAgents(deps: ReplyDeps, ids: number[], log: ReplyDeps["logger"]) {
  try {
    await deps.handoff!.outbox.post(ids);
  } catch (err) {
    log.error("GENESYS_POST_DEFERRED", {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * Whom the agent's tools may act for: the sender's phone number; on Messenger/Instagram and email
 * the phone number the person shared (their profile's), else on Messenger/Instagram
 * `<channel>:<id>`, which matches no phone and no session owner, so the tools cannot act for
 * anyone else, and on email their address.
 */
async function actingFor(deps: ReplyDeps, inbound: InboundToReply): Promise<string> {
  if (inbound.channel === "whatsapp" || inbound.channel === "sms") return inbound.sender;
  const [row] = await deps.sql<{ phone_number: string | null }[]>`
    select p.phone_number from public.omnichannel_sessions s
    join public.profiles p on p.id = s.profile_id where s.id = ${inbound.sessionId}`;
  if (row?.phone_number) return row.phone_number;
  return inbound.channel === "email" ? inbound.sender : `${inbound.channel}:${inbound.sender}`;
}

/** A person is owed an answer; a failure here must not undo the fallback already sent. */
async function markFollowUp(deps: ReplyDeps, sessionId: string, log: ReplyDeps["logger"]) {
  try {
    await createSessionStore(deps.sql).updateStatus(sessionId, "follow_up");
  } catch (err) {
    log.error("AI_REPLY_FOLLOW_UP_FAILED", {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

export interface ReplyPendingOptions {
  /** Leave younger messages to the webhook's own background reply. */
  olderThanSeconds: number;
  limit: number;
  /** Older messages get no automatic reply. Default 24 h. */
  maxAgeSeconds?: number;
}

export interface ReplyPendingResult {
  found: number;
  replied: number;
  fallback: number;
  notClaimed: number;
  /** Answered without the agent: a keyword, or a person who opted out. */
  skipped: number;
  failed: number;
}

/** Counts of a round that found nothing. */
export function noReplies(): ReplyPendingResult {
  return { found: 0, replied: 0, fallback: 0, notClaimed: 0, skipped: 0, failed: 0 };
}

/** Adds a round's counts into a total. */
export function addReplies(total: ReplyPendingResult, round: ReplyPendingResult): void {
  for (const k of ["found", "replied", "fallback", "notClaimed", "skipped", "failed"] as const) {
    total[k] += round[k];
  }
}

/**
 * The retry path: replies owed but never written (the process died after the webhook's 200, or
 * during the reply, whose lease has run out). Each goes through replyToInbound, whose claim
 * keeps concurrent dispatchers from answering twice.
 */
export async function replyPending(
  deps: ReplyDeps,
  opts: ReplyPendingOptions,
): Promise<ReplyPendingResult> {
  const rows = await rpc(deps.sql, "list_pending_inbound_replies", {
    p_older_than_seconds: opts.olderThanSeconds,
    p_limit: opts.limit,
    p_max_age_seconds: opts.maxAgeSeconds ?? 86_400,
  });
  const settled = await Promise.allSettled(rows.map((r) =>
    replyToInbound(deps, {
      deliveryId: r.delivery_id,
      sessionId: r.session_id,
      channel: r.channel as InboundToReply["channel"],
      sender: r.sender,
      correlationId: r.correlation_id ?? `reply-retry:${r.delivery_id}`,
    })
  ));
  const result: ReplyPendingResult = { ...noReplies(), found: rows.length };
  for (const s of settled) {
    if (s.status === "rejected") {
      result.failed++;
      deps.logger.error("AI_REPLY_RETRY_FAILED", {
        error: s.reason instanceof Error ? s.reason.message : String(s.reason),
      });
    } else if (s.value === "not_claimed") result.notClaimed++;
    else if (s.value === "keyword" || s.value === "opted_out" || s.value === "with_agents") {
      result.skipped++;
    } else if (s.value === "handed_off") result.replied++;
    else result[s.value]++;
  }
  if (rows.length > 0) deps.logger.info("AI_REPLY_RETRY_DONE", { ...result });
  return result;
}

export type ReplyOwedResult = ReplyPendingResult & {
  rounds: number;
  /** A full round of rows still to take when it stopped: more is owed. */
  more: boolean;
};

/**
 * Every reply owed now: replyPending round after round (`limit` rows each, none left younger than
 * now), until none is found, only rows others have claimed are left, or `deadline` passes. The
 * agent-worker's drain, and a webhook's when the agent-worker cannot be reached.
 */
export async function replyOwed(
  deps: ReplyDeps,
  opts: { limit: number; deadline: number; now?: () => number },
): Promise<ReplyOwedResult> {
  const now = opts.now ?? Date.now;
  const total: ReplyOwedResult = { ...noReplies(), rounds: 0, more: false };
  while (now() < opts.deadline) {
    const round = await replyPending(deps, { olderThanSeconds: 0, limit: opts.limit });
    total.rounds++;
    addReplies(total, round);
    // Only rows others had already claimed: they are being answered; nothing more to take.
    total.more = round.found === opts.limit && round.notClaimed < round.found;
    if (round.found === 0 || round.notClaimed === round.found) break;
  }
  return total;
}

/** The AI reply a webhook runs in the background after its 200, for each new inbound message. */
export function replierOf(platform: Platform, outbound: OutboundDeps) {
  return replyingWith(createReplyDeps(platform, outbound));
}

/** replyToInbound with these deps, its outcome dropped: a webhook's or a worker's `onInbound`. */
export function replyingWith(deps: ReplyDeps) {
  return async (inbound: InboundToReply): Promise<void> => {
    await replyToInbound(deps, inbound);
  };
}

/** The reply path of a function, from its platform and channel adapters (a main.ts's wiring). */
export function createReplyDeps(
  platform: Platform,
  outbound: OutboundDeps,
): ReplyDeps {
  const { env } = platform;
  const base = outbound;
  const { accounts, outbox } = bridgeOf(platform);
  return {
    ...base,
    handoff: {
      sql: platform.sql,
      logger: platform.logger,
      whatsappAccount: accounts.whatsapp,
      outbox,
    },
    agent: createAgent(base, {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.OPENAI_MODEL,
      fetch: platform.fetch,
    }),
  };
}
