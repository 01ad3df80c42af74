import type { SendResult } from "../outbound/adapter.ts";
import type { Logger } from "../log/logger.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { RecordedOutcome } from "../outbound/outcome.ts";
import { type OutboundDeps, paced, senderFor, sendEvent, sendPaced } from "../outbound/send.ts";
import {
  type DualSend,
  planRow,
  planWhatsApp,
  refusal,
  sendDualChannel,
} from "../outbound/dual-channel.ts";
import { recordOutcome } from "../outbound/outcome.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { buildPostCallMessages } from "./post-call-message.ts";
import { formatPostCallEmail } from "./email-format.ts";
import { sendEmail } from "../outbound/send-email.ts";

export interface NotifyAfterCallDeps extends OutboundDeps {
  config: {
    /** Approved template for sends outside the 24 h window; unset means no WhatsApp there. */
    summaryTemplate?: string;
    templateLanguage: string;
    /** How long to wait for the voice agent to write the summary before a generic message. */
    summaryWaitMs: number;
    summaryPollMs: number;
    sendTimeoutMs: number;
    /**
     * both (default): WhatsApp and SMS in parallel. whatsapp_first: WhatsApp only, and the SMS
     * version is its fallback, sent once if WhatsApp fails for good (now or by a later status).
     */
    channels?: "both" | "whatsapp_first";
  };
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface NotifyAfterCallInput {
  callId: string;
  /** E.164, already normalised. */
  phoneNumber: string;
  summary?: string | null;
  correlationId: string;
}

export type DeliveryStatus =
  | "queued"
  | "unknown"
  | "sent"
  | "delivered"
  | "read"
  | "failed"
  | "blocked"
  | "skipped";

export interface DeliveryReport {
  channel: "whatsapp" | "sms" | "email";
  status: DeliveryStatus;
  provider_message_id?: string;
  error?: { code: string; class: string; message: string };
  attempt: number;
  /** Queued for another attempt (a retryable failure, or no pacing token yet): when. */
  next_attempt_at?: string;
  /** This SMS is the fallback of a WhatsApp message that failed for good. */
  fallback?: true;
  /** Why a channel was skipped: the person opted out of it, or is known not to use WhatsApp. */
  reason?: "opted_out" | "not_on_whatsapp";
}

export interface NotifyAfterCallResult {
  session_id: string;
  summary_source: "request" | "database" | "generic";
  outcome: "sent" | "partial" | "failed" | "skipped" | "already_sent";
  deliveries: DeliveryReport[];
}

interface ClaimRow {
  session_id: string;
  profile_id: string;
  summary: string | null;
  whatsapp_window_open: boolean;
  channel: "whatsapp" | "sms";
  delivery_id: string | null;
  status: DeliveryStatus;
  provider_message_id: string | null;
  error_code: string | null;
  error_class: string | null;
  error_message: string | null;
  attempt: number;
  to_send: boolean;
  /** The person's email address, if any (the email leg). */
  email: string | null;
  /** Pacing tokens leased for this channel's sender in the same statement. */
  sender_key: string | null;
  granted: number | null;
  wait_ms: number | null;
}

const SENT_LIKE = new Set<DeliveryStatus>(["sent", "delivered", "read"]);

/**
 * When a voice call ends: the caller's summary on WhatsApp and SMS, each formatted for its
 * channel, both logged before the provider is called and updated after. Idempotent per call id:
 * a repeat answers the recorded outcome and re-attempts only the channels that failed.
 */
export async function notifyAfterCall(
  deps: NotifyAfterCallDeps,
  input: NotifyAfterCallInput,
): Promise<NotifyAfterCallResult> {
  const log = deps.logger.child({ correlation_id: input.correlationId, call_id: input.callId });
  const whatsappFirst = deps.config.channels === "whatsapp_first";
  // The channels' pacing tokens are leased in the same statement that claims their rows (none
  // for a channel this isolate holds a token for, or that is not handed out to send).
  const channelOf = new Map<string, "whatsapp" | "sms">();
  for (const channel of ["whatsapp", "sms"] as const) {
    const sender = deps.senders.resolve(channel);
    if (sender) channelOf.set(sender.key, channel);
  }
  const tokens = deps.pacer.reserve?.(
    [...channelOf.keys()].map((key) => deps.senders.resolve(channelOf.get(key)!)!),
  );
  const claims = (await rpc(deps.sql, "begin_post_call_notification_paced", {
    p_call_id: input.callId,
    p_phone_number: input.phoneNumber,
    p_summary: input.summary ?? undefined,
    p_correlation_id: input.correlationId,
    p_lease_seconds: 120,
    p_channels: whatsappFirst ? ["whatsapp"] : ["whatsapp", "sms"],
    p_tokens: (tokens?.ask ?? []).map((a) => {
      const channel = channelOf.get(a.sender_key)!;
      // No template: outside the window WhatsApp is refused, and takes no token.
      return { ...a, channel, window_only: channel === "whatsapp" && !deps.config.summaryTemplate };
    }),
  }).catch((err) => {
    // Other notifications' sends may be waiting for the lease this statement was to take.
    tokens?.settle([]);
    throw err;
  })) as ClaimRow[];
  tokens?.settle(claims);
  const sessionId = claims[0].session_id;
  // A re-leased row whose person opted out meanwhile comes back blocked: not to send.
  const pending = claims.filter((c) => c.to_send && c.status === "queued");
  const reports = new Map<DeliveryReport["channel"], DeliveryReport>(
    claims.map((c) => [c.channel, reportOf(c)]),
  );
  for (const c of claims) {
    if (c.status === "blocked") {
      log.info(`${c.channel.toUpperCase()}_MESSAGE_BLOCKED`, { reason: c.error_code });
    }
    if (c.status === "skipped") log.info("WHATSAPP_MESSAGE_SKIPPED", { reason: c.error_code });
  }
  await keepBlockedBodies(deps, claims, input.callId);

  const releaseTokens = () => {
    for (const key of tokens?.held ?? []) tokens!.release(key);
  };
  if (pending.length === 0) {
    releaseTokens();
    const deliveries = [...reports.values()];
    // Nothing could be sent on any channel (opted out, not on WhatsApp): that is not a repeat.
    const skipped = outcomeOf(deliveries) === "skipped";
    log.info(skipped ? "POST_CALL_NOTIFY_SKIPPED" : "POST_CALL_NOTIFY_REPLAYED", {
      session_id: sessionId,
    });
    return {
      session_id: sessionId,
      summary_source: input.summary ? "request" : "database",
      outcome: skipped ? "skipped" : "already_sent",
      deliveries,
    };
  }

  let summary = claims[0].summary;
  let source: NotifyAfterCallResult["summary_source"] = input.summary ? "request" : "database";
  if (!summary) {
    // Tokens are not held through the wait: they would be spent long after their lease.
    releaseTokens();
    summary = await waitForSummary(deps, input.callId);
    if (summary) {
      await rpc(deps.sql, "merge_omnichannel_session_context", {
        p_session_id: sessionId,
        p_context: { last_call: { call_id: input.callId, summary } },
      });
    } else {
      source = "generic";
      log.warn("POST_CALL_SUMMARY_MISSING", { waited_ms: deps.config.summaryWaitMs });
    }
  }

  // Safe for Postgres before anything is sent, whoever wrote the summary.
  const messages = pgSafe(buildPostCallMessages({ summary, callId: input.callId }));
  const planned = plan(deps, input, messages, pending);
  for (const { claim, refused } of planned.refused) {
    const outcome = await recordOutcome(deps.sql, claim.delivery_id!, refused, {
      body: messages.whatsappText,
    });
    logSend(log, claim.channel, refused, claim.attempt, outcome);
    reports.set(claim.channel, reportFrom(claim.channel, claim.attempt, refused, outcome));
  }
  const go = await paced(deps, planned.sends, tokens);
  for (const s of planned.sends.filter((s) => !go.includes(s))) {
    reports.set(s.claim.channel, {
      channel: s.claim.channel,
      status: "queued",
      attempt: s.claim.attempt,
      next_attempt_at: new Date().toISOString(),
    });
  }

  // Email, where the person has an address: alongside the other two, failing alone.
  const email = emailLeg(deps, input, sessionId, claims[0].email, summary, log);
  await sendDualChannel(deps, deps.config.sendTimeoutMs, go, async (send, result, outcome) => {
    const { claim } = send as PostCallSend;
    logSend(log, claim.channel, result, claim.attempt, outcome);
    reports.set(claim.channel, reportFrom(claim.channel, claim.attempt, result, outcome));
    if (outcome.fallbackId) {
      reports.set(
        "sms",
        await sendFallbackNow(deps, outcome.fallbackId, input.phoneNumber, messages.smsText, log),
      );
    }
  });

  const emailReport = await email;
  if (emailReport) reports.set("email", emailReport);
  const deliveries = [...reports.values()];
  const outcome = outcomeOf(deliveries);
  const event = outcome === "sent"
    ? "POST_CALL_NOTIFY_SUCCESS"
    : outcome === "partial"
    ? "POST_CALL_NOTIFY_PARTIAL"
    : "POST_CALL_NOTIFY_FAILED";
  log[outcome === "failed" ? "error" : outcome === "partial" ? "warn" : "info"](event, {
    session_id: sessionId,
    summary_source: source,
    deliveries: deliveries.map((d) => `${d.channel}:${d.status}`),
  });
  return { session_id: sessionId, summary_source: source, outcome, deliveries };
}

/**
 * The summary by email to the address on the person's profile, read by the begin statement
 * (none: no email leg). Keyed per
 * call, so a repeat never sends it twice; a failure or a crash here is a failed report, never
 * the other channels' problem.
 */
async function emailLeg(
  deps: NotifyAfterCallDeps,
  input: NotifyAfterCallInput,
  sessionId: string,
  to: string | null,
  summary: string | null,
  log: Logger,
): Promise<DeliveryReport | null> {
  if (!to) return null;
  try {
    const sent = await sendEmail(deps, {
      to,
      ...formatPostCallEmail({ summary }),
      sessionId,
      purpose: "post_call_summary",
      correlationId: input.correlationId,
      idempotencyKey: `post_call:${input.callId}:email`,
      tags: [{ name: "purpose", value: "post_call_summary" }],
    });
    return {
      channel: "email",
      status: sent.status === "blocked" ? "skipped" : sent.status,
      attempt: 1,
      ...(sent.status === "blocked" ? { reason: "opted_out" as const } : {}),
      ...(sent.providerMessageId ? { provider_message_id: sent.providerMessageId } : {}),
      ...(sent.error ? { error: sent.error } : {}),
    };
  } catch (err) {
    log.error("EMAIL_MESSAGE_FAILED", { error: err instanceof Error ? err.message : String(err) });
    return {
      channel: "email",
      status: "failed",
      attempt: 1,
      error: { code: "SEND.UNEXPECTED_ERROR", class: "retryable", message: "The email failed" },
    };
  }
}

async function waitForSummary(deps: NotifyAfterCallDeps, callId: string): Promise<string | null> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const deadline = now() + deps.config.summaryWaitMs;
  while (now() < deadline) {
    await sleep(Math.min(deps.config.summaryPollMs, Math.max(0, deadline - now())));
    const [row] = await deps.sql<{ summary: string | null }[]>`
      select summary from public.call_summaries where call_id = ${callId}`;
    if (row?.summary) return row.summary;
  }
  return null;
}

function logSend(
  log: Logger,
  channel: "whatsapp" | "sms",
  r: SendResult,
  attempt: number,
  o: RecordedOutcome,
) {
  if (r.ok) {
    log.info(sendEvent(channel, o.status), {
      provider: r.provider,
      provider_message_id: r.providerMessageId,
      attempt,
    });
  } else {
    log.warn(sendEvent(channel, o.status), {
      provider: r.provider,
      error_code: r.error.code,
      error_class: r.error.class,
      attempt,
      next_attempt_at: o.nextAttemptAt?.toISOString(),
    });
  }
}

function reportFrom(
  channel: "whatsapp" | "sms",
  attempt: number,
  r: SendResult,
  o: RecordedOutcome,
): DeliveryReport {
  return {
    channel,
    status: o.status,
    attempt,
    ...(r.ok ? { provider_message_id: r.providerMessageId } : {
      error: { code: r.error.code, class: r.error.class, message: r.error.message },
    }),
    ...(o.nextAttemptAt ? { next_attempt_at: o.nextAttemptAt.toISOString() } : {}),
  };
}

interface PostCallSend extends DualSend {
  claim: ClaimRow;
}

/** Each channel's row as its sender sends it; a WhatsApp plan that cannot go out is refused. */
function plan(
  deps: NotifyAfterCallDeps,
  input: NotifyAfterCallInput,
  messages: ReturnType<typeof buildPostCallMessages>,
  pending: ClaimRow[],
): { sends: PostCallSend[]; refused: { claim: ClaimRow; refused: SendResult }[] } {
  const whatsappFirst = deps.config.channels === "whatsapp_first";
  const out: ReturnType<typeof plan> = { sends: [], refused: [] };
  for (const claim of pending) {
    const base = {
      id: claim.delivery_id!,
      channel: claim.channel,
      recipient: input.phoneNumber,
      sender_key: null,
    };
    const sender = senderFor(deps, claim.channel);
    if (claim.channel === "sms") {
      const row = { ...base, body: messages.smsText, message_type: "text", metadata: null };
      out.sends.push({ claim, sender, row, extra: { body: row.body, messageType: "text" } });
      continue;
    }
    const { summaryTemplate, templateLanguage } = deps.config;
    const wa = planWhatsApp({
      windowOpen: claim.whatsapp_window_open,
      text: messages.whatsappText,
      template: summaryTemplate
        ? {
          name: summaryTemplate,
          language: templateLanguage,
          bodyParameters: messages.whatsappTemplateParams,
          body: messages.whatsappTemplateParams.join("\n"),
        }
        : undefined,
    });
    if (wa.kind === "unavailable") {
      out.refused.push({ claim, refused: refusal(wa) });
      continue;
    }
    const row = { ...base, ...planRow(wa) };
    const metadata = {
      ...row.metadata,
      ...(whatsappFirst ? { fallback: { channel: "sms", body: messages.smsText } } : {}),
    };
    out.sends.push({
      claim,
      sender,
      row,
      extra: { body: row.body, messageType: row.message_type, metadata },
    });
  }
  return out;
}

/** WhatsApp failed for good in WhatsApp-first mode: the SMS version, claimed so only we send it. */
async function sendFallbackNow(
  deps: NotifyAfterCallDeps,
  fallbackId: string,
  to: string,
  body: string,
  log: Logger,
): Promise<DeliveryReport> {
  const claimed = await rpcValue(deps.sql, "claim_delivery", { p_delivery_id: fallbackId });
  if (!claimed) return { channel: "sms", status: "queued", attempt: 1, fallback: true };
  const row = {
    id: fallbackId,
    channel: "sms",
    recipient: to,
    body,
    message_type: "text",
    metadata: null,
    sender_key: null,
  };
  const sent = await sendPaced(deps, { sender: senderFor(deps, "sms"), row });
  if (!sent) {
    return {
      channel: "sms",
      status: "queued",
      attempt: 1,
      fallback: true,
      next_attempt_at: new Date().toISOString(),
    };
  }
  logSend(log, "sms", sent.result, 1, sent.outcome);
  return { ...reportFrom("sms", 1, sent.result, sent.outcome), fallback: true };
}

/**
 * Judged by what could be sent: a channel skipped (opted out, not on WhatsApp) neither counts
 * for nor against it. WhatsApp-first: a fallback SMS that went out carries the summary; the
 * failed WhatsApp is history.
 */
function outcomeOf(deliveries: DeliveryReport[]): NotifyAfterCallResult["outcome"] {
  const sendable = deliveries.filter((d) => d.status !== "skipped");
  const sent = sendable.filter((d) => SENT_LIKE.has(d.status)).length;
  if (sendable.length === 0) return "skipped";
  return sent === sendable.length ? "sent" : sent > 0 ? "partial" : "failed";
}

/** A blocked row keeps the text that would have gone, so the console shows what was held back. */
async function keepBlockedBodies(deps: NotifyAfterCallDeps, claims: ClaimRow[], callId: string) {
  const blocked = claims.filter((c) => c.status === "blocked" && c.delivery_id);
  if (blocked.length === 0) return;
  const messages = buildPostCallMessages({ summary: claims[0].summary, callId });
  for (const c of blocked) {
    const body = c.channel === "sms" ? messages.smsText : messages.whatsappText;
    await rpcValue(deps.sql, "set_blocked_body", { p_delivery_id: c.delivery_id!, p_body: body });
  }
}

function reportOf(c: ClaimRow): DeliveryReport {
  const reason = c.status === "blocked"
    ? "opted_out"
    : c.status === "skipped"
    ? "not_on_whatsapp"
    : undefined;
  return {
    channel: c.channel,
    status: c.status === "blocked" ? "skipped" : c.status,
    attempt: c.attempt,
    ...(reason ? { reason } : {}),
    ...(c.provider_message_id ? { provider_message_id: c.provider_message_id } : {}),
    ...(c.error_code
      ? {
        error: {
          code: c.error_code,
          class: c.error_class ?? "permanent",
          message: c.error_message ?? "",
        },
      }
      : {}),
  };
}
