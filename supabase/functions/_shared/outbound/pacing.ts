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
  /**
   * The statement's answer: what it granted goes into the stock, one per key into `held`. Until
   * it is called (or `release`), other work's sends for these senders wait for this lease: call
   * it with `[]` when the statement failed.
   */
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

/** How long a sender's bucket takes to refill a lease's worth. */
const leaseWaitMs = (s: SenderRef) => (leaseSize(s) * 1000) / s.ratePerSecond;

/** A send waiting for its sender's token (acquire), answered in the order they came. */
interface Waiter {
  deadline: number;
  resolve: (ok: boolean) => void;
  reject: (err: unknown) => void;
}
interface Queue {
  sender: SenderRef;
  waiters: Waiter[];
}

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

  // The bulk lease in flight per sender (acquire's take_send_tokens_each): concurrent sends that
  // ran short queue behind it instead of each updating the sender's row.
  const refilling = new Map<string, Promise<unknown>>();
  const emptyUntil = new Map<string, number>();
  const markEmpty = (sender: SenderRef, waitMs: number) =>
    emptyUntil.set(sender.key, now() + Math.max(waitMs, leaseWaitMs(sender)));

  const take = async (s: SenderRef, wanted: number) => {
    const [r] = await rpc(sql, "take_send_tokens", {
      p_sender_key: s.key,
      p_wanted: wanted,
      p_default_rate: s.ratePerSecond,
    });
    return { granted: r.granted, waitMs: r.wait_ms };
  };

  // Sends waiting for a sender whose bucket ran dry, first come first served. One pump per sender
  // leases for all of them at once (what the bucket refilled: about a lease's worth per round trip),
  // so a saturated sender costs one row update per few sends, not one or more per send.
  const queues = new Map<string, Queue>();
  const serve = (q: Queue) => {
    while (q.waiters.length > 0 && fromStock(q.sender.key)) q.waiters.shift()!.resolve(true);
  };
  const pump = async (q: Queue) => {
    const { sender } = q;
    const inFlight = refilling.get(sender.key);
    if (inFlight) await inFlight.catch(() => undefined);
    serve(q);
    // Leases start on the bucket's clock, a lease's worth apart, not each after the last one
    // answered: a lease waiting behind this isolate's other statements in the pool (or a late
    // timer) would otherwise let the bucket fill past its burst and lose what it refilled. At
    // most two are in flight.
    const taking = new Set<Promise<void>>();
    let at = now() + Math.max(0, (emptyUntil.get(sender.key) ?? 0) - now());
    while (q.waiters.length > 0) {
      // A send that cannot get its token within its wait is deferred now: never sent late.
      const due = at;
      q.waiters = q.waiters.filter((w) => due <= w.deadline || void w.resolve(false));
      if (q.waiters.length === 0) break;
      if (at > now()) await sleep(at - now());
      serve(q);
      if (q.waiters.length === 0) break;
      if (taking.size >= 2) {
        await Promise.race(taking);
        continue;
      }
      const wanted = q.waiters.length - 1 + leaseSize(sender);
      const lease: Promise<void> = take(sender, wanted).then((next) => {
        addStock(sender.key, next.granted);
        serve(q);
        if (next.granted < wanted) markEmpty(sender, next.waitMs);
      }, (err) => {
        for (const w of q.waiters.splice(0)) w.reject(err);
      }).finally(() => taking.delete(lease));
      taking.add(lease);
      at = now() + leaseWaitMs(sender);
    }
    // In the same turn as the last check: a send queued after this starts a new pump.
    queues.delete(sender.key);
  };
  const enqueue = (sender: SenderRef, count: number, deadline: number): Promise<boolean>[] => {
    let q = queues.get(sender.key);
    const start = !q;
    if (!q) queues.set(sender.key, q = { sender, waiters: [] });
    const queue = q;
    const waits = Array.from(
      { length: count },
      () =>
        new Promise<boolean>((resolve, reject) =>
          queue.waiters.push({ deadline, resolve, reject })
        ),
    );
    if (start) {
      pump(queue).catch((err) => {
        if (queues.get(sender.key) === queue) queues.delete(sender.key);
        for (const w of queue.waiters.splice(0)) w.reject(err);
      });
    }
    return waits;
  };
  // Neither the stock nor a new lease may jump the sends already queued for a sender.
  const busy = (key: string) =>
    queues.has(key) || refilling.has(key) || (emptyUntil.get(key) ?? 0) > now();

  const reserve = (senders: SenderRef[]): TokenReservation => {
    const held = new Set<string>();
    const ask: TokenReservation["ask"] = [];
    const byKey = new Map(senders.map((s) => [s.key, s]));
    for (const s of byKey.values()) {
      if (queues.has(s.key)) continue; // acquire queues behind the sends already waiting
      if (fromStock(s.key)) held.add(s.key);
      // A lease on the way or a bucket found empty: acquire shares or waits for it instead.
      else if (!busy(s.key)) {
        ask.push({ sender_key: s.key, wanted: leaseSize(s), rate: s.ratePerSecond });
      }
    }
    // The lease asked for in the caller's statement is in flight until that statement answers:
    // work reserved meanwhile asks for none (every claim asking would queue them all on the
    // senders' rows, each lock held to its commit), and its sends wait for this lease's stock.
    let resolveInFlight = () => {};
    let inFlight: Promise<void> | null = null;
    if (ask.length > 0) {
      inFlight = new Promise<void>((resolve) => resolveInFlight = resolve);
      for (const a of ask) refilling.set(a.sender_key, inFlight);
    }
    // Once: the statement answered (settle) or its work gave up (release).
    const answered = () => {
      if (!inFlight) return;
      for (const a of ask) {
        if (refilling.get(a.sender_key) === inFlight) refilling.delete(a.sender_key);
      }
      inFlight = null;
      resolveInFlight();
    };
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
        // The sends waiting for this lease take from the stock it filled (or lease themselves).
        answered();
      },
      release(key) {
        answered();
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
      // One token per entry: from this isolate's lease when it has one (and no send is queued
      // for it), else leased now, else in turn behind the sends already waiting.
      const needed = new Map<string, { sender: SenderRef; count: number }>();
      for (const s of senders) {
        if (!queues.has(s.key) && fromStock(s.key)) continue;
        const n = needed.get(s.key);
        if (n) n.count++;
        else needed.set(s.key, { sender: s, count: 1 });
      }
      if (needed.size === 0) return new Set();
      const waits: Promise<[string, boolean]>[] = [];
      const wait = (sender: SenderRef, count: number) => {
        for (const p of enqueue(sender, count, deadline)) {
          waits.push(p.then((ok) => [sender.key, ok]));
        }
      };
      const lease: { sender: SenderRef; count: number }[] = [];
      for (const w of needed.values()) {
        if (busy(w.sender.key)) wait(w.sender, w.count);
        else lease.push(w);
      }
      if (lease.length > 0) {
        const wanted = lease.map((w) => w.count - 1 + leaseSize(w.sender));
        const bulk = rpc(sql, "take_send_tokens_each", {
          p_sender_keys: lease.map((w) => w.sender.key),
          p_wanted: wanted,
          p_default_rates: lease.map((w) => w.sender.ratePerSecond),
        }).then((rows) => {
          lease.forEach((w, i) => {
            const r = rows.find((row) => row.sender_key === w.sender.key);
            addStock(w.sender.key, r?.granted ?? 0);
            if ((r?.granted ?? 0) < wanted[i]) markEmpty(w.sender, r?.wait_ms ?? 0);
          });
          return rows;
        });
        const tracked = bulk.finally(() => {
          for (const w of lease) {
            if (refilling.get(w.sender.key) === tracked) refilling.delete(w.sender.key);
          }
        });
        for (const w of lease) refilling.set(w.sender.key, tracked);
        await tracked;
        for (const w of lease) {
          let short = w.count;
          while (short > 0 && fromStock(w.sender.key)) short--;
          if (short > 0) wait(w.sender, short);
        }
      }
      const missing = new Set<string>();
      for (const [key, ok] of await Promise.all(waits)) if (!ok) missing.add(key);
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
