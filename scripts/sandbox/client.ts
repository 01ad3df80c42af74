import type { InboundResult } from "./inbound.ts";
import type { MessageFilter, SandboxMessage } from "./messages.ts";

/**
 * The sandbox's control API over HTTP, for the CLI, the demo and the Deno tier: they talk to a
 * sandbox running in another process (`npm start`) exactly as they talk to one in their own.
 */
export class SandboxClient {
  constructor(readonly url: string) {}

  async inbound(body: {
    channel: "whatsapp" | "sms" | "messenger" | "instagram" | "email";
    from: string;
    text: string;
    subject?: string;
    provider?: "mtn" | "twilio";
    name?: string;
    payload?: string;
    postback?: string;
  }): Promise<InboundResult> {
    return await this.#call("POST", "/__sandbox/inbound", body) as InboundResult;
  }

  async messages(filter: MessageFilter = {}): Promise<SandboxMessage[]> {
    const query = new URLSearchParams(
      Object.entries(filter).filter((e): e is [string, string] =>
        typeof e[1] === "string" && e[1] !== ""
      ),
    );
    const q = query.size ? `?${query}` : "";
    return await this.#call("GET", `/__sandbox/messages${q}`) as SandboxMessage[];
  }

  async clear(): Promise<number> {
    return (await this.#call("DELETE", "/__sandbox/messages") as { deleted: number }).deleted;
  }

  /** A Genesys agent answers the person at `to` (E.164): genesys-webhook gets it, signed. */
  async agentReply(to: string, text: string) {
    return await this.#call("POST", "/__sandbox/agent-reply", { to, text }) as {
      genesys_message_id: string;
      status: number;
      answer: string;
    };
  }

  /**
   * Status callbacks after each accepted message: on (`true`, or `{ delay_ms }` apart), or
   * `false` for none (benchmarks and tests that start only some functions turn them off).
   */
  async settings(
    body: { status_callbacks: boolean | { delay_ms: number } },
  ): Promise<{ status_callbacks: false | { delay_ms: number } }> {
    return await this.#call("POST", "/__sandbox/settings", body) as {
      status_callbacks: false | { delay_ms: number };
    };
  }

  /** The Genesys agent ends the conversation with `to`: the AI answers them again. */
  async agentEnd(to: string) {
    return await this.#call("POST", "/__sandbox/agent-end", { to }) as {
      genesys_message_id: string;
      status: number;
      answer: string;
    };
  }

  async fault(body: Record<string, unknown>): Promise<unknown> {
    return await this.#call("POST", "/__sandbox/faults", body);
  }

  /**
   * The first message to `to` on `channel` that is not among `seen` (the ids there before),
   * polled every 200 ms; null after `timeoutMs`.
   */
  async waitForMessage(
    filter: { to: string; channel: string },
    seen: ReadonlySet<string>,
    timeoutMs = 20_000,
    /** Checked on every poll: true when no message will come (it was blocked), to stop at once. */
    hopeless: () => Promise<boolean> = () => Promise.resolve(false),
  ): Promise<SandboxMessage | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const fresh = (await this.messages(filter)).find((m) => !seen.has(m.id));
      if (fresh) return fresh;
      if (Date.now() >= deadline || await hopeless()) return null;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The ids of the messages the sandbox holds now (what a wait should not count as new). */
  async ids(filter: MessageFilter = {}): Promise<Set<string>> {
    return new Set((await this.messages(filter)).map((m) => m.id));
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.url + path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`sandbox ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    }
    return JSON.parse(text);
  }
}
