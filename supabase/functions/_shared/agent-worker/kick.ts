import type { Logger } from "../log/logger.ts";

export interface AgentWorkerKick {
  /**
   * Asks the agent-worker function to write the replies now owed. Calls made in the same
   * event-loop turn share one request; calls made while a request is in flight share one more,
   * sent when it has been answered (at most one in flight and one waiting per isolate, however
   * many messages arrive). Resolves true once the worker has answered 2xx, false when it cannot
   * be reached or refused (the caller then replies itself).
   */
  kick(): Promise<boolean>;
  /**
   * As `kick`, but only the caller whose kick sends a call (or queues the one after the call in
   * flight) gets its promise, and with it the duty to act when it fails; every other caller gets
   * null, since a call already on its way covers it. A webhook that accepts thousands of
   * messages while the worker drains then holds one pending follow-up, not one per request
   * until the worker answers (each kept its request's closure alive for the whole drain).
   */
  lead(): Promise<boolean> | null;
}

/**
 * The webhooks' way to take AI replies off their own request path and pool. Without a functions
 * URL or a secret key to call it with, there is no worker to kick: null, and the caller replies
 * in its own isolate as before.
 */
export function createAgentWorkerKick(opts: {
  /** `<SUPABASE_URL>/functions/v1` */
  functionsUrl?: string;
  secretKey?: string;
  logger: Logger;
  fetch?: typeof fetch;
}): AgentWorkerKick | null {
  if (!opts.functionsUrl || !opts.secretKey) return null;
  const url = `${opts.functionsUrl.replace(/\/+$/, "")}/agent-worker`;
  const doFetch = opts.fetch ?? fetch;
  // The call in flight (the worker answers when its drain ends), and the one queued after it.
  let current: Promise<boolean> | null = null;
  let queued: Promise<boolean> | null = null;
  let sent = false;

  const call = async (): Promise<boolean> => {
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers: { apikey: opts.secretKey!, "content-type": "application/json" },
        body: "{}",
      });
      await res.body?.cancel();
      if (!res.ok) opts.logger.warn("AGENT_WORKER_REFUSED", { status: res.status });
      return res.ok;
    } catch (err) {
      opts.logger.warn("AGENT_WORKER_UNREACHABLE", {
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    }
  };

  // Sent at the end of the turn, so the kicks of one turn share it.
  const start = (): Promise<boolean> => {
    sent = false;
    const p: Promise<boolean> = new Promise<boolean>((resolve) =>
      setTimeout(() => {
        sent = true;
        resolve(call());
      }, 0)
    ).finally(() => {
      if (current === p) current = null;
    });
    current = p;
    return p;
  };

  // The call this kick joins, and whether this kick is the one that made it.
  const join = (): { call: Promise<boolean>; made: boolean } => {
    if (!current) return { call: start(), made: true };
    if (!sent) return { call: current, made: false };
    // A call is in flight: the worker is draining, and may already be past the rows accepted
    // since. One call after it answers covers every kick made meanwhile.
    if (queued) return { call: queued, made: false };
    queued = current.then(() => {
      queued = null;
      return current ?? start();
    });
    return { call: queued, made: true };
  };

  return {
    kick: () => join().call,
    lead() {
      const { call, made } = join();
      return made ? call : null;
    },
  };
}

/** The kick for a function's environment: SUPABASE_URL and its `default` (or first) secret key. */
export function agentWorkerKickOf(
  env: { SUPABASE_URL?: string; SUPABASE_SECRET_KEYS?: Record<string, string> },
  logger: Logger,
): AgentWorkerKick | null {
  const keys = env.SUPABASE_SECRET_KEYS ?? {};
  return createAgentWorkerKick({
    functionsUrl: env.SUPABASE_URL
      ? `${env.SUPABASE_URL.replace(/\/+$/, "")}/functions/v1`
      : undefined,
    secretKey: keys.default ?? Object.values(keys)[0],
    logger,
  });
}

/**
 * What a webhook runs after accepting messages into the inbox (in the background, after its
 * answer): kicks the agent-worker, and runs the inbox worker in its own isolate only when there
 * is no worker to kick or it cannot be reached (the inbox claim and the reply lease keep the two
 * from doing anything twice). Only the request whose kick made the call waits for it (`lead`);
 * the inbox worker drains every owed row, the other requests' included.
 */
export function afterAccept(
  kick: AgentWorkerKick | null,
  inboxWorker: () => Promise<unknown>,
): () => Promise<void> {
  return async () => {
    if (kick) {
      const call = kick.lead();
      // Another request's kick covers this one, and runs the inbox worker if that call fails.
      if (call === null || await call) return;
    }
    await inboxWorker();
  };
}

/**
 * What a webhook that records each message itself (meta-webhook) runs for a message owed a
 * reply, in the background after its answer: kicks the agent-worker, and only the request whose
 * kick made the call waits for it (`lead`). When the worker cannot be reached, that request
 * answers its own message, then every reply still owed: the messages of the requests the same
 * call covered among them (the reply lease keeps anything from being answered twice). Without a
 * worker to kick, each message is answered where it was recorded.
 */
export function replyAfterRecord<T>(
  kick: AgentWorkerKick | null,
  reply: (inbound: T) => Promise<void>,
  owed: () => Promise<unknown>,
): (inbound: T) => Promise<void> {
  return async (inbound) => {
    if (!kick) return await reply(inbound);
    const call = kick.lead();
    if (call === null || await call) return;
    await reply(inbound);
    await owed();
  };
}
