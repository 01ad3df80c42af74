import type { SendFailed, SendResult } from "./adapter.ts";
import { type OutcomeItem, type RecordedOutcome, recordOutcomesGrouped } from "./outcome.ts";
import type { OutboundDeps, Outgoing } from "./send.ts";
import type { OutboxRow } from "./senders.ts";

/** What to send on WhatsApp: free text inside the 24 h window, an approved template outside. */
export type WhatsAppPlan =
  | { kind: "text"; body: string }
  | { kind: "template"; name: string; language: string; bodyParameters: string[]; body: string }
  | { kind: "unavailable"; code: string; class: "window_closed" | "permanent"; message: string };

/**
 * The one decision every WhatsApp send makes: nothing for a person known not to have WhatsApp,
 * free text inside the 24-hour customer-service window, the approved template outside it, and a
 * window-closed failure when no template is configured.
 */
export function planWhatsApp(opts: {
  hasWhatsapp?: boolean | null;
  windowOpen: boolean;
  text: string;
  template?: { name: string; language: string; bodyParameters: string[]; body: string };
}): WhatsAppPlan {
  if (opts.hasWhatsapp === false) {
    return {
      kind: "unavailable",
      class: "permanent",
      code: "NOT_ON_WHATSAPP",
      message: "The recipient is known not to use WhatsApp",
    };
  }
  if (opts.windowOpen) return { kind: "text", body: opts.text };
  if (!opts.template) {
    return {
      kind: "unavailable",
      class: "window_closed",
      code: "WHATSAPP.TEMPLATE_NOT_CONFIGURED",
      message: "Outside the 24-hour window and WHATSAPP_SUMMARY_TEMPLATE is not set",
    };
  }
  return { kind: "template", ...opts.template };
}

/** A plan that can go out, as the fields of its row (a template row is re-sent as the template). */
export function planRow(
  plan: Exclude<WhatsAppPlan, { kind: "unavailable" }>,
): Pick<OutboxRow, "body" | "message_type" | "metadata"> {
  if (plan.kind === "text") return { body: plan.body, message_type: "text", metadata: null };
  const { name, language, bodyParameters } = plan;
  return {
    body: plan.body,
    message_type: "template",
    metadata: { template: { name, language, bodyParameters } },
  };
}

/** A plan that cannot go out, as the failure recorded on its row; no provider is asked. */
export function refusal(plan: Extract<WhatsAppPlan, { kind: "unavailable" }>): SendFailed {
  return {
    ok: false,
    provider: "whatsapp",
    error: { class: plan.class, code: plan.code, message: plan.message },
  };
}

/** A sender that threw instead of answering: the one code for it, on every path. */
export function sendCrashed(provider: string): SendFailed {
  return {
    ok: false,
    provider,
    error: {
      class: "retryable",
      code: "SEND.UNEXPECTED_ERROR",
      message: "The sender failed unexpectedly",
    },
  };
}

export interface DualSend extends Outgoing {
  extra?: Omit<OutcomeItem, "deliveryId" | "result" | "senderKey">;
}

/**
 * Sends on WhatsApp and SMS in parallel (already paced), then records both answers in one round
 * trip (record_outbound_outcomes: one statement, one commit, the profile and session rows locked
 * once instead of by two racing calls), shared with the other requests whose sends finished in
 * the same event-loop turn (recordOutcomesGrouped). Each send has its own deadline, so one
 * failing, hanging or throwing never blocks the other for longer than that deadline, and never
 * fails it.
 */
export async function sendDualChannel(
  deps: OutboundDeps,
  timeoutMs: number,
  sends: DualSend[],
  onResult: (send: DualSend, result: SendResult, outcome: RecordedOutcome) => Promise<void>,
): Promise<void> {
  const results = await Promise.all(
    sends.map((send) =>
      withDeadline(send.sender.provider, timeoutMs, () => send.sender.send(send.row))
    ),
  );
  const outcomes = await recordOutcomesGrouped(
    deps.sql,
    sends.map((send, i) => ({
      deliveryId: send.row.id,
      result: results[i],
      ...send.extra,
      senderKey: send.sender.key,
    })),
  );
  const settled = await Promise.allSettled(
    sends.map((send, i) => onResult(send, results[i], outcomes[i])),
  );
  const crashed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (crashed) throw crashed.reason;
}

/** The adapter's own timeout covers the HTTP call; this one also covers token fetches and bugs. */
async function withDeadline(
  provider: string,
  ms: number,
  send: () => Promise<SendResult>,
): Promise<SendResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<SendResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          provider,
          error: { class: "retryable", code: "TIMEOUT", message: `No answer within ${ms} ms` },
        }),
      ms,
    );
  });
  try {
    return await Promise.race([send().catch(() => sendCrashed(provider)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
