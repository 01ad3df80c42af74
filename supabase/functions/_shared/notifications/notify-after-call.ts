import type { Sql } from "../db/client.ts";
import type { SendResult } from "../channels/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Pacer, SenderRef } from "../delivery/pacing.ts";
import { type RecordedOutcome, recordOutcome, sendEvent } from "../delivery/outcome.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { buildPostCallMessages } from "./post-call-message.ts";
import {
  type DualChannelRequest,
  planWhatsApp,
  sendDualChannel,
  type SmsSender,
  type WhatsAppSender,
} from "./dual-channel.ts";

export interface NotifyAfterCallDeps {
  sql: Sql;
  whatsapp: WhatsAppSender;
  sms: SmsSender;
  logger: Logger;
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
  /** Per-sender pacing; without it sends are not paced (tests of other behaviour). */
  pacing?: { pacer: Pacer; whatsapp: SenderRef; sms: SenderRef; maxWaitMs?: number };
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

export type DeliveryStatus = "queued" | "unknown" | "sent" | "delivered" | "read" | "failed" | "blocked" | "skipped";

export interface DeliveryReport {
  channel: "whatsapp" | "sms";
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
  const claims = await deps.sql<ClaimRow[]>`
    select * from public.begin_post_call_notification(
      ${input.callId}, ${input.phoneNumber}, ${input.summary ?? null}, ${input.correlationId},
      120, ${whatsappFirst ? ["whatsapp"] : ["whatsapp", "sms"]}::text[])`;
  const sessionId = claims[0].session_id;
  // A re-leased row whose person opted out meanwhile comes back blocked: not to send.
  const pending = claims.filter((c) => c.to_send && c.status === "queued");
  const reports = new Map(claims.map((c) => [c.channel, reportOf(c)]));
  for (const c of claims) {
    if (c.status === "blocked") log.info(`${c.channel.toUpperCase()}_MESSAGE_BLOCKED`, { reason: c.error_code });
    if (c.status === "skipped") log.info("WHATSAPP_MESSAGE_SKIPPED", { reason: c.error_code });
  }
  await keepBlockedBodies(deps, claims, input.callId);

  if (pending.length === 0) {
    const deliveries = [...reports.values()];
    // Nothing could be sent on any channel (opted out, not on WhatsApp): that is not a repeat.
    const skipped = outcomeOf(deliveries) === "skipped";
    log.info(skipped ? "POST_CALL_NOTIFY_SKIPPED" : "POST_CALL_NOTIFY_REPLAYED", { session_id: sessionId });
    return { session_id: sessionId, summary_source: input.summary ? "request" : "database",
      outcome: skipped ? "skipped" : "already_sent", deliveries };
  }

  let summary = claims[0].summary;
  let source: NotifyAfterCallResult["summary_source"] = input.summary ? "request" : "database";
  if (!summary) {
    summary = await waitForSummary(deps, input.callId);
    if (summary) {
      await deps.sql`select public.merge_omnichannel_session_context(${sessionId},
        ${deps.sql.json({ last_call: { call_id: input.callId, summary } } as never)})`;
    } else {
      source = "generic";
      log.warn("POST_CALL_SUMMARY_MISSING", { waited_ms: deps.config.summaryWaitMs });
    }
  }

  // Safe for Postgres before anything is sent, whoever wrote the summary.
  const messages = pgSafe(buildPostCallMessages({ summary, callId: input.callId }));
  const byChannel = new Map(pending.map((c) => [c.channel, c]));
  await deferUnpaced(deps, byChannel, reports);

  const request: DualChannelRequest = {
    to: input.phoneNumber,
    correlationId: input.correlationId,
    deliveryIds: { whatsapp: byChannel.get("whatsapp")?.delivery_id ?? undefined, sms: byChannel.get("sms")?.delivery_id ?? undefined },
  };
  const wa = byChannel.get("whatsapp");
  if (wa) {
    const { summaryTemplate, templateLanguage } = deps.config;
    request.whatsapp = planWhatsApp({
      windowOpen: wa.whatsapp_window_open,
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
  }
  if (byChannel.has("sms")) request.sms = { body: messages.smsText };

  await sendDualChannel(
    { whatsapp: deps.whatsapp, sms: deps.sms, timeoutMs: deps.config.sendTimeoutMs },
    request,
    async (channel, result) => {
      const claim = byChannel.get(channel)!;
      const template = channel === "whatsapp" && request.whatsapp?.kind === "template" ? request.whatsapp : null;
      const outcome = await recordOutcome(deps.sql, claim.delivery_id!, result, {
        body: channel === "sms" ? messages.smsText : template ? template.body : messages.whatsappText,
        messageType: template ? "template" : "text",
        metadata: {
          ...(template ? { template: { name: template.name, language: template.language, bodyParameters: template.bodyParameters } } : {}),
          ...(whatsappFirst && channel === "whatsapp" ? { fallback: { channel: "sms", body: messages.smsText } } : {}),
        },
        senderKey: deps.pacing?.[channel].key ?? null,
      });
      logSend(log, channel, result, claim.attempt, outcome);
      reports.set(channel, reportFrom(channel, claim.attempt, result, outcome));
      if (outcome.fallbackId) {
        reports.set("sms", await sendFallbackNow(deps, outcome.fallbackId, input.phoneNumber, messages.smsText, log));
      }
    },
  );

  const deliveries = [...reports.values()];
  const outcome = outcomeOf(deliveries);
  const event = outcome === "sent" ? "POST_CALL_NOTIFY_SUCCESS"
    : outcome === "partial" ? "POST_CALL_NOTIFY_PARTIAL" : "POST_CALL_NOTIFY_FAILED";
  log[outcome === "failed" ? "error" : outcome === "partial" ? "warn" : "info"](event, {
    session_id: sessionId,
    summary_source: source,
    deliveries: deliveries.map((d) => `${d.channel}:${d.status}`),
  });
  return { session_id: sessionId, summary_source: source, outcome, deliveries };
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

function logSend(log: Logger, channel: "whatsapp" | "sms", r: SendResult, attempt: number, o: RecordedOutcome) {
  if (r.ok) log.info(sendEvent(channel, o.status), { provider: r.provider, provider_message_id: r.providerMessageId, attempt });
  else {
    log.warn(sendEvent(channel, o.status), {
      provider: r.provider, error_code: r.error.code, error_class: r.error.class, attempt,
      next_attempt_at: o.nextAttemptAt?.toISOString(),
    });
  }
}

function reportFrom(channel: "whatsapp" | "sms", attempt: number, r: SendResult, o: RecordedOutcome): DeliveryReport {
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

/**
 * Takes one pacing token per channel about to be sent (one round trip). A channel whose sender
 * has no token within the wait is not sent now: its row goes back to the outbox, due at once,
 * and dispatch sends it when the bucket allows.
 */
async function deferUnpaced(
  deps: NotifyAfterCallDeps,
  byChannel: Map<"whatsapp" | "sms", ClaimRow>,
  reports: Map<"whatsapp" | "sms", DeliveryReport>,
) {
  if (!deps.pacing || byChannel.size === 0) return;
  const { pacer, maxWaitMs } = deps.pacing;
  const refs = [...byChannel.keys()].map((c) => deps.pacing![c]);
  const missing = await pacer.acquire(refs, maxWaitMs);
  for (const [channel, claim] of byChannel) {
    if (!missing.has(deps.pacing[channel].key)) continue;
    await deps.sql`select public.release_deliveries(${[claim.delivery_id!]}::uuid[])`;
    byChannel.delete(channel);
    reports.set(channel, { channel, status: "queued", attempt: claim.attempt, next_attempt_at: new Date().toISOString() });
  }
}

/** WhatsApp failed for good in WhatsApp-first mode: the SMS version, claimed so only we send it. */
async function sendFallbackNow(
  deps: NotifyAfterCallDeps,
  fallbackId: string,
  to: string,
  body: string,
  log: Logger,
): Promise<DeliveryReport> {
  const [{ claimed }] = await deps.sql<{ claimed: boolean }[]>`
    select public.claim_delivery(${fallbackId}) as claimed`;
  if (!claimed) return { channel: "sms", status: "queued", attempt: 1, fallback: true };
  const result = await deps.sms.send(to, body, { deliveryId: fallbackId });
  const outcome = await recordOutcome(deps.sql, fallbackId, result, { senderKey: deps.pacing?.sms.key ?? null });
  logSend(log, "sms", result, 1, outcome);
  return { ...reportFrom("sms", 1, result, outcome), fallback: true };
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
    await deps.sql`select public.set_blocked_body(${c.delivery_id}, ${body})`;
  }
}

function reportOf(c: ClaimRow): DeliveryReport {
  const reason = c.status === "blocked" ? "opted_out" : c.status === "skipped" ? "not_on_whatsapp" : undefined;
  return {
    channel: c.channel,
    status: c.status === "blocked" ? "skipped" : c.status,
    attempt: c.attempt,
    ...(reason ? { reason } : {}),
    ...(c.provider_message_id ? { provider_message_id: c.provider_message_id } : {}),
    ...(c.error_code
      ? { error: { code: c.error_code, class: c.error_class ?? "permanent", message: c.error_message ?? "" } }
      : {}),
  };
}
