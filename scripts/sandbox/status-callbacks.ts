import type { SandboxMessage } from "./messages.ts";
import {
  metaReceipt,
  mtnReceipt,
  twilioCallbackPath,
  twilioStatus,
  wantsMtnReceipt,
  whatsappStatus,
} from "./status-payloads.ts";
import { resendWebhook } from "./email-payloads.ts";
import { deliverWebhook, type Webhook, type WebhookTarget } from "./webhook.ts";

export interface StatusCallbackSettings {
  enabled: boolean;
  /** Before each callback of a message: sent after one delay, delivered after two, … */
  delayMs: number;
}

/** `false` turns them off; `true` or `{delayMs}` on. */
export type StatusCallbackOption = boolean | { delayMs?: number };

export const DEFAULT_CALLBACK_DELAY_MS = 200;

export interface StatusCallbackDeps {
  /** Without one there is nowhere to send them, and nothing is scheduled. */
  target?: WebhookTarget;
  now: () => Date;
  log: (line: string) => void;
}

type Step = (now: Date) => Webhook;

/**
 * After the sandbox accepts a message it reports on it as the provider does, with signed
 * webhooks to the stack's functions: WhatsApp statuses sent → delivered → read, Messenger and
 * Instagram delivery → read receipts (watermarks), Twilio
 * MessageStatus sent → delivered, an MTN delivery receipt. Fire and forget: the provider's answer
 * never waits for them, and a failed callback is logged, not retried.
 */
export class StatusCallbacks {
  #settings: StatusCallbackSettings = { enabled: true, delayMs: DEFAULT_CALLBACK_DELAY_MS };
  #running = new Set<Promise<void>>();
  #abort = new AbortController();
  readonly #deps: StatusCallbackDeps;

  constructor(deps: StatusCallbackDeps, option: StatusCallbackOption = true) {
    this.#deps = deps;
    this.configure(option);
  }

  get settings(): StatusCallbackSettings {
    return { ...this.#settings };
  }

  configure(option: StatusCallbackOption): StatusCallbackSettings {
    if (typeof option === "boolean") this.#settings.enabled = option;
    else this.#settings = { enabled: true, delayMs: option.delayMs ?? this.#settings.delayMs };
    return this.settings;
  }

  /** Starts the callbacks for a message the sandbox just accepted, in their own task. */
  schedule(message: SandboxMessage): void {
    const target = this.#deps.target;
    if (!this.#settings.enabled || !target) return;
    const steps = stepsFor(message, target);
    if (steps.length === 0) return;
    const task = this.#run(steps, target, this.#settings.delayMs);
    this.#running.add(task);
    void task.finally(() => this.#running.delete(task));
  }

  /** Resolves once every scheduled callback has been sent (or has failed). */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Cancels what is still waiting and aborts what is in flight. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.settled();
  }

  async #run(steps: Step[], target: WebhookTarget, delayMs: number): Promise<void> {
    const signal = this.#abort.signal;
    for (const step of steps) {
      if (!(await sleep(delayMs, signal))) return;
      const webhook = step(this.#deps.now());
      try {
        const res = await deliverWebhook(webhook, target, signal);
        if (res.status >= 300) {
          this.#deps.log(
            `[sandbox] ${describe(webhook)} → HTTP ${res.status} ${res.text.slice(0, 200)}`,
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#deps.log(
          `[sandbox] ${describe(webhook)} failed: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }
}

function stepsFor(message: SandboxMessage, target: WebhookTarget): Step[] {
  const c = target.credentials;
  switch (message.provider) {
    case "whatsapp":
      return (["sent", "delivered", "read"] as const).map((s) => (now) =>
        whatsappStatus(message, s, now, c)
      );
    case "messenger":
    case "instagram":
      return (["delivered", "read"] as const).map((s) => (now) => metaReceipt(message, s, now));
    case "mtn":
      return wantsMtnReceipt(message) ? [(now) => mtnReceipt(message, now)] : [];
    case "resend":
      return (["email.sent", "email.delivered"] as const).map((type) => (now) =>
        resendWebhook(type, {
          email_id: message.id,
          created_at: now.toISOString(),
          from: message.from,
          to: message.to.split(", "),
          subject: message.email?.subject ?? "",
        }, now)
      );
    case "twilio": {
      const path = twilioCallbackPath(message, target.publicFunctionsUrl);
      return path
        ? (["sent", "delivered"] as const).map((s) => () => twilioStatus(message, s, path, c))
        : [];
    }
  }
  return [];
}

const describe = (w: Webhook) =>
  `${w.provider} status callback for ${w.providerMessageId} to ${w.path}`;

/** True after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort);
  });
}
