import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";

/** A sender's bucket: its key (whatsapp:<phone number id>, sms:mtn:<sender>) and default rate. */
export interface SenderRef {
  key: string;
  ratePerSecond: number;
}

export interface Pacer {
  /**
   * One token for each entry (none or one round trip when they are all available: tokens are
   * leased in bulk per isolate). Waits for tokens up to `maxWaitMs`; returns the keys that got
   * none in time — those sends must be deferred, never sent early.
   */
  acquire(senders: SenderRef[], maxWaitMs?: number): Promise<Set<string>>;
  /** Up to `wanted` tokens from one sender, now: how many were granted and when to ask again. */
  take(sender: SenderRef, wanted: number): Promise<{ granted: number; waitMs: number }>;
  /** The provider throttled this sender (429 / 130429): empty its bucket, halve its rate a while. */
  slowDown(key: string, retryAfterMs?: number): Promise<void>;
}

/**
 * How long a leased token may wait in an isolate before it is spent or dropped: bounds how far
 * a send can lag behind the bucket that granted it (at most rate × 100 ms early in any window).
 */
const LEASE_MS = 100;

/** Tokens leased per round trip: what the sender may send in 50 ms (at least 1). */
const leaseSize = (s: SenderRef) => Math.max(1, Math.floor(s.ratePerSecond / 20));

/**
 * Token buckets held in Postgres (public.sender_rate_limits), shared by every isolate. `acquire`
 * leases tokens in bulk (public.take_send_tokens_each) and keeps the rest for this isolate's next
 * sends for up to LEASE_MS, so a busy isolate updates a sender's row once per several sends;
 * tokens not spent in time are dropped (never sent late, never faster than the bucket).
 */
export function createPacer(
  sql: Sql,
  opts: { sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
): Pacer {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const stock = new Map<string, { tokens: number; until: number }>();

  const fromStock = (key: string): boolean => {
    const s = stock.get(key);
    if (!s || s.tokens < 1 || now() >= s.until) return false;
    s.tokens--;
    return true;
  };

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
      // One token per entry: from this isolate's lease when it has one, else leased now.
      const needed = new Map<string, { sender: SenderRef; count: number }>();
      for (const s of senders) {
        if (fromStock(s.key)) continue;
        const n = needed.get(s.key);
        if (n) n.count++;
        else needed.set(s.key, { sender: s, count: 1 });
      }
      if (needed.size === 0) return new Set();
      const wanted = [...needed.values()];
      const rows = await rpc(sql, "take_send_tokens_each", {
        p_sender_keys: wanted.map((w) => w.sender.key),
        p_wanted: wanted.map((w) => w.count - 1 + leaseSize(w.sender)),
        p_default_rates: wanted.map((w) => w.sender.ratePerSecond),
      });
      const deadline = now() + maxWaitMs;
      const missing = new Set<string>();
      await Promise.all(rows.map(async (r) => {
        const { sender, count } = needed.get(r.sender_key)!;
        const spare = r.granted - count;
        if (spare > 0) stock.set(sender.key, { tokens: spare, until: now() + LEASE_MS });
        // What the lease did not cover, one token at a time as the bucket refills.
        let short = Math.max(0, count - r.granted);
        let wait = r.wait_ms;
        while (short > 0) {
          if (now() + wait > deadline) return void missing.add(sender.key);
          await sleep(wait);
          if (fromStock(sender.key)) {
            short--;
            continue;
          }
          const next = await take(sender, 1);
          if (next.granted >= 1) short--;
          else wait = next.waitMs;
        }
      }));
      return missing;
    },
    async slowDown(key, retryAfterMs) {
      stock.delete(key);
      await rpcValue(sql, "slow_down_sender", {
        p_sender_key: key,
        p_retry_after_ms: retryAfterMs,
      });
    },
  };
}
