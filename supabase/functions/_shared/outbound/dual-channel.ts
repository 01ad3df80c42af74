import type { SendResult } from "./adapter.ts";

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
    return { kind: "unavailable", class: "permanent", code: "NOT_ON_WHATSAPP", message: "The recipient is known not to use WhatsApp" };
  }
  if (opts.windowOpen) return { kind: "text", body: opts.text };
  if (!opts.template) {
    return {
      kind: "unavailable",
      class: "window_closed",
      code: "TEMPLATE_NOT_CONFIGURED",
      message: "Outside the 24-hour window and WHATSAPP_SUMMARY_TEMPLATE is not set",
    };
  }
  return { kind: "template", ...opts.template };
}

/** `callbackData` / `deliveryId`: our row id, which the provider echoes in its status callbacks. */
export interface WhatsAppSender {
  sendText(to: string, body: string, opts?: { callbackData?: string }): Promise<SendResult>;
  sendTemplate(
    to: string,
    t: { name: string; language: string; bodyParameters: string[] },
    opts?: { callbackData?: string },
  ): Promise<SendResult>;
}
export interface SmsSender {
  readonly provider: string;
  send(to: string, body: string, opts?: { correlationId?: string; deliveryId?: string }): Promise<SendResult>;
}

export interface DualChannelRequest {
  to: string;
  correlationId?: string;
  /** Each channel's row id, echoed back by the provider in its status callbacks. */
  deliveryIds?: { whatsapp?: string; sms?: string };
  whatsapp?: WhatsAppPlan;
  sms?: { body: string };
}

export interface DualChannelOutcome {
  whatsapp?: SendResult;
  sms?: SendResult;
}

/**
 * Sends on WhatsApp and SMS in parallel. Each channel has its own deadline and its own
 * `onResult` (so its outcome is recorded the moment it is known), and one channel failing,
 * hanging or throwing never blocks or fails the other.
 */
export async function sendDualChannel(
  deps: { whatsapp: WhatsAppSender; sms: SmsSender; timeoutMs: number },
  req: DualChannelRequest,
  onResult: (channel: "whatsapp" | "sms", result: SendResult) => Promise<void>,
): Promise<DualChannelOutcome> {
  const out: DualChannelOutcome = {};
  const run = async (channel: "whatsapp" | "sms", provider: string, send: () => Promise<SendResult>) => {
    const result = await withDeadline(provider, deps.timeoutMs, send);
    out[channel] = result;
    await onResult(channel, result);
  };
  const jobs: Promise<void>[] = [];
  if (req.whatsapp) {
    const plan = req.whatsapp;
    jobs.push(run("whatsapp", "whatsapp", () => sendWhatsApp(deps.whatsapp, req.to, plan, req.deliveryIds?.whatsapp)));
  }
  if (req.sms) {
    const body = req.sms.body;
    jobs.push(
      run("sms", deps.sms.provider, () => deps.sms.send(req.to, body, { correlationId: req.correlationId, deliveryId: req.deliveryIds?.sms })),
    );
  }
  const settled = await Promise.allSettled(jobs);
  const crashed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (crashed) throw crashed.reason;
  return out;
}

export function sendWhatsApp(
  wa: WhatsAppSender,
  to: string,
  plan: WhatsAppPlan,
  deliveryId?: string,
): Promise<SendResult> {
  const echo = deliveryId ? { callbackData: deliveryId } : undefined;
  switch (plan.kind) {
    case "text":
      return wa.sendText(to, plan.body, echo);
    case "template":
      return wa.sendTemplate(to, plan, echo);
    case "unavailable":
      return Promise.resolve({
        ok: false,
        provider: "whatsapp",
        error: { class: plan.class, code: plan.code, message: plan.message },
      });
  }
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
    return await Promise.race([
      send().catch((): SendResult => ({
        ok: false,
        provider,
        error: { class: "retryable", code: "SEND_ERROR", message: "The sender failed unexpectedly" },
      })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
