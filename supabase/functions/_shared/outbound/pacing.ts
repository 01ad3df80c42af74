import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";

/** A sender's bucket: its key (whatsapp:<phone number id>, sms:mtn:<sender>) and default rate. */
export interface SenderRef {
  key: string;
  ratePerSecond: number;
}

export interface Pacer {
  /**
   * One token from each sender (one round trip when they are all available). Waits for tokens up
   * to `maxWaitMs`; returns the keys that got none in time — those sends must be deferred, never
   * sent early.
   */
  acquire(senders: SenderRef[], maxWaitMs?: number): Promise<Set<string>>;
  /** Up to `wanted` tokens from one sender, now: how many were granted and when to ask again. */
  take(sender: SenderRef, wanted: number): Promise<{ granted: number; waitMs: number }>;
  /** The provider throttled this sender (429 / 130429): empty its bucket, halve its rate a while. */
  slowDown(key: string, retryAfterMs?: number): Promise<void>;
}

/** Token buckets held in Postgres (public.sender_rate_limits), shared by every isolate. */
export function createPacer(
  sql: Sql,
  opts: { sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
): Pacer {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;

  const take = async (s: SenderRef, wanted: number) => {
    const [r] = await rpc(sql, "take_send_tokens", {
      p_sender_key: s.key,
      p_wanted: wanted,
      p_default_rate: s.ratePerSecond,
    });
    return { granted: r.granted, waitMs: r.wait_ms };
  };

  return {
    take,
    async acquire(senders, maxWaitMs = 5_000) {
      if (senders.length === 0) return new Set();
      const rows = await rpc(sql, "take_send_token_each", {
        p_sender_keys: senders.map((s) => s.key),
        p_default_rates: senders.map((s) => s.ratePerSecond),
      });
      const deadline = now() + maxWaitMs;
      const missing = new Set<string>();
      await Promise.all(
        rows.filter((r) => r.granted < 1).map(async (r) => {
          const sender = senders.find((s) => s.key === r.sender_key)!;
          let wait = r.wait_ms;
          for (;;) {
            if (now() + wait > deadline) return void missing.add(sender.key);
            await sleep(wait);
            const next = await take(sender, 1);
            if (next.granted >= 1) return;
            wait = next.waitMs;
          }
        }),
      );
      return missing;
    },
    async slowDown(key, retryAfterMs) {
      await rpcValue(sql, "slow_down_sender", {
        p_sender_key: key,
        p_retry_after_ms: retryAfterMs,
      });
    },
  };
}
