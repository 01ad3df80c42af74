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
  /**
   * Tokens taken inside another statement (begin_post_call_notification_paced), so a send costs
   * no round trip of its own: a token this isolate already holds is set aside now; for the other
   * senders, `ask` says how many to lease in that statement. Optional: a pacer without it is
   * simply asked through `acquire`.
   */
  reserve?(senders: SenderRef[]): TokenReservation;
}

/** Tokens set aside for one piece of work, and what to lease for it in its own statement. */
export interface TokenReservation {
  /** To lease in the caller's statement: { sender_key, wanted, rate } per sender without a token. */
  ask: { sender_key: string; wanted: number; rate: number }[];
  /** The keys holding a token for this work: set aside from the stock, or granted by `settle`. */
  held: Set<string>;
  /** The statement's answer: what it granted goes into the stock, one per key into `held`. */
  settle(
    rows: { sender_key: string | null; granted: number | null; wait_ms: number | null }[],
  ): void;
  /** A held token not spent goes back to the stock (dropped when the stock has expired). */
  release(key: string): void;
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

  const addStock = (key: string, tokens: number) => {
    if (tokens <= 0) return;
    const s = stock.get(key);
    const held = s && now() < s.until ? s.tokens : 0;
    stock.set(key, { tokens: held + tokens, until: now() + LEASE_MS });
  };

  // One refill per sender at a time: concurrent sends that ran short wait for the one in flight
  // and share what it brought into the stock, instead of each updating the sender's row.
  const refilling = new Map<string, Promise<number>>();
  const emptyUntil = new Map<string, number>();
  const markEmpty = (sender: SenderRef, waitMs: number) =>
    emptyUntil.set(
      sender.key,
      now() + Math.max(waitMs, (leaseSize(sender) * 1000) / sender.ratePerSecond),
    );
  const track = (key: string, p: Promise<number>): Promise<number> => {
    const tracked = p.finally(() => {
      if (refilling.get(key) === tracked) refilling.delete(key);
    });
    refilling.set(key, tracked);
    return tracked;
  };
  const refill = (sender: SenderRef, wanted: number): Promise<number> =>
    refilling.get(sender.key) ??
      track(
        sender.key,
        take(sender, wanted).then((next) => {
          addStock(sender.key, next.granted);
          if (next.granted < wanted) markEmpty(sender, next.waitMs);
          return next.waitMs;
        }),
      );

  const take = async (s: SenderRef, wanted: number) => {
    const [r] = await rpc(sql, "take_send_tokens", {
      p_sender_key: s.key,
      p_wanted: wanted,
      p_default_rate: s.ratePerSecond,
    });
    return { granted: r.granted, waitMs: r.wait_ms };
  };

  const reserve = (senders: SenderRef[]): TokenReservation => {
    const held = new Set<string>();
    const ask: TokenReservation["ask"] = [];
    const byKey = new Map(senders.map((s) => [s.key, s]));
    for (const s of byKey.values()) {
      if (fromStock(s.key)) held.add(s.key);
      // A refill on the way or a bucket found empty: acquire shares or waits for it instead.
      else if (!refilling.has(s.key) && (emptyUntil.get(s.key) ?? 0) <= now()) {
        ask.push({ sender_key: s.key, wanted: leaseSize(s), rate: s.ratePerSecond });
      }
    }
    return {
      ask,
      held,
      settle(rows) {
        for (const r of rows) {
          const sender = r.sender_key ? byKey.get(r.sender_key) : undefined;
          if (!sender || r.granted === null || held.has(sender.key)) continue;
          addStock(sender.key, r.granted);
          if (r.granted < leaseSize(sender)) markEmpty(sender, r.wait_ms ?? 0);
          if (fromStock(sender.key)) held.add(sender.key);
        }
      },
      release(key) {
        if (!held.delete(key)) return;
        const s = stock.get(key);
        if (s && now() < s.until) s.tokens++;
      },
    };
  };

  return {
    take,
    reserve,
    async acquire(senders, maxWaitMs = 5_000) {
      const deadline = now() + maxWaitMs;
      // Refills in flight for these senders are awaited first: what they bring is shared
      // through the stock instead of each send updating the sender's row.
      const keys = [...new Set(senders.map((s) => s.key))];
      // A sender whose bucket this isolate found empty is not asked again before a lease's
      // worth has refilled (asking sooner would update its row for a token or none).
      const until = Math.max(0, ...keys.map((k) => emptyUntil.get(k) ?? 0));
      if (until > now() && until <= deadline) await sleep(until - now());
      const inFlight = keys.flatMap((k) => refilling.get(k) ?? []);
      if (inFlight.length > 0) await Promise.all(inFlight);
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
      const bulk = rpc(sql, "take_send_tokens_each", {
        p_sender_keys: wanted.map((w) => w.sender.key),
        p_wanted: wanted.map((w) => w.count - 1 + leaseSize(w.sender)),
        p_default_rates: wanted.map((w) => w.sender.ratePerSecond),
      }).then((rows) => {
        for (const r of rows) {
          addStock(r.sender_key, r.granted);
          const w = needed.get(r.sender_key)!;
          if (r.granted < w.count - 1 + leaseSize(w.sender)) markEmpty(w.sender, r.wait_ms);
        }
        return rows;
      });
      for (const w of wanted) {
        track(
          w.sender.key,
          bulk.then((rows) => rows.find((r) => r.sender_key === w.sender.key)?.wait_ms ?? 0),
        );
      }
      const rows = await bulk;
      const missing = new Set<string>();
      await Promise.all(wanted.map(async ({ sender, count }) => {
        let short = count;
        while (short > 0 && fromStock(sender.key)) short--;
        // What the lease did not cover, as the bucket refills: a lease's worth at a time.
        const leaseWaitMs = (leaseSize(sender) * 1000) / sender.ratePerSecond;
        const first = rows.find((r) => r.sender_key === sender.key)?.wait_ms ?? 0;
        let wait = short > 0 ? Math.max(first, leaseWaitMs) : 0;
        while (short > 0) {
          if (now() + wait > deadline) return void missing.add(sender.key);
          await sleep(wait);
          while (short > 0 && fromStock(sender.key)) short--;
          if (short === 0) break;
          const waitMs = await refill(sender, short - 1 + leaseSize(sender));
          while (short > 0 && fromStock(sender.key)) short--;
          wait = short > 0 ? Math.max(waitMs, leaseWaitMs) : 0;
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
