/**
 * Pacing tokens are leased in bulk per isolate: a burst of sends through one sender takes its
 * tokens from the sender's bucket a few at a time instead of one row update per send, and still
 * never faster than the bucket allows; sends short of a token queue behind one lease at a time;
 * and a function's leases go over their own connection, never behind its other statements.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { createPlatform, outboundOf } from "../../supabase/functions/_shared/platform/deps.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

/** A pool like a function's (3 connections) that counts the statements leasing pacing tokens. */
function countingTakes(): { counted: Sql; takes: () => number } {
  let takes = 0;
  const counted = postgres(db.url, {
    prepare: false,
    max: 3,
    onnotice: () => {},
    debug: (_c, query) => {
      if (query.includes("take_send_token")) takes++;
    },
  }) as unknown as Sql;
  return { counted, takes: () => takes };
}

describe("pacing leases", () => {
  it("40 sends through one 80/s sender: fewer than 40 bucket updates, and still paced at 80/s", async () => {
    const { counted, takes } = countingTakes();
    const pacer = createPacer(counted);
    const sender = { key: "whatsapp:pacing-lease-test", ratePerSecond: 80 };
    const started = performance.now();
    let sent = 0;
    // Ten senders at a time in one isolate, as concurrent replies would be.
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 10; i++) {
        const missing = await pacer.acquire([sender], 5_000);
        expect(missing.size).toBe(0);
        sent++;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBe(40);
    // 40 before leasing (105 with leases taken one token at a time by concurrent sends, 19–24
    // with each short send refilling for itself); 11 with the sends queued behind one lease.
    expect(takes()).toBeLessThanOrEqual(16);
    // The bucket starts with its burst (rate / 10 = 8); the other 32 need 0.4 s at 80/s.
    expect(seconds).toBeGreaterThanOrEqual((40 - 8) / 80 * 0.9);
    await counted.end();
  });

  it("a saturated sender (20 replies waiting on one 80/s bucket): every send gets its token in turn, one bucket update per few sends", async () => {
    const { counted, takes } = countingTakes();
    const pacer = createPacer(counted);
    const sender = { key: "whatsapp:pacing-saturated-test", ratePerSecond: 80 };
    const started = performance.now();
    let sent = 0;
    let deferred = 0;
    // The agent-worker answers 20 messages at a time, all through the number they were written to.
    await Promise.all(Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 6; i++) {
        const missing = await pacer.acquire([sender], 5_000);
        if (missing.size > 0) deferred++;
        else sent++;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    // 120 sends need 1.4 s at 80/s: well inside each send's 5 s wait, so none is left to dispatch.
    expect(deferred).toBe(0);
    expect(sent).toBe(120);
    expect(seconds).toBeGreaterThanOrEqual((120 - 8) / 80 * 0.9);
    // A lease is rate / 20 = 4 tokens: about one bucket update per 4 sends once saturated (148
    // before the queue, when every short send refilled for itself; 29 with it).
    expect(takes(), `${takes()} bucket updates for 120 sends`).toBeLessThanOrEqual(45);
    await counted.end();
  });

  it("a lease asked for in a claim's statement is shared: claims begun meanwhile ask for none, and their sends wait for it", async () => {
    const { counted, takes } = countingTakes();
    const pacer = createPacer(counted);
    const sender = { key: "whatsapp:pacing-claim-lease", ratePerSecond: 1_000 };
    const first = pacer.reserve!([sender]);
    expect(first.ask.map((a) => a.sender_key)).toEqual([sender.key]);
    // Reserved while the first claim's statement is out: no second lease of the sender's row.
    const second = pacer.reserve!([sender]);
    expect(second.ask).toEqual([]);
    let got = false;
    const waiting = pacer.acquire([sender], 5_000).then((missing) => {
      got = true;
      return missing;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe(false); // waits for the claim's answer rather than leasing on its own
    first.settle([{ sender_key: sender.key, granted: 50, wait_ms: 0 }]);
    expect((await waiting).size).toBe(0);
    expect(first.held.has(sender.key)).toBe(true);
    expect(takes()).toBe(0);

    // A claim that failed (settled with nothing) leaves the sends waiting for it to lease themselves.
    const other = { key: "whatsapp:pacing-claim-failed", ratePerSecond: 1_000 };
    const failing = pacer.reserve!([other]);
    expect(failing.ask).toHaveLength(1);
    expect(pacer.reserve!([other]).ask).toEqual([]);
    const after = pacer.acquire([other], 5_000);
    failing.settle([]);
    expect((await after).size).toBe(0);
    expect(takes()).toBe(1);
    // And once it answered, the next claim may ask again.
    await new Promise((r) => setTimeout(r, 150)); // the lease's stock expired (100 ms)
    expect(pacer.reserve!([other]).ask).toHaveLength(1);
    await counted.end();
  });

  // The embedded database runs one statement at a time whatever the connection: PostgreSQL only.
  it.runIf(process.env.DATABASE_URL)(
    "a function's lease never queues behind its other statements: the pacer has its own connection",
    async () => {
      const platform = createPlatform(loadConfig({ SUPABASE_DB_URL: db.url }), "pacing-test");
      const { pacer } = outboundOf(platform);
      try {
        // Every connection of the function's pool busy for a second (a worker's replies).
        const order: string[] = [];
        const busy = Promise.all(
          Array.from({ length: 3 }, () => platform.sql`select pg_sleep(1)`),
        ).then(() => void order.push("pool"));
        const sender = { key: "whatsapp:pacing-own-connection", ratePerSecond: 80 };
        const paced = pacer.acquire([sender], 5_000).then((missing) => {
          expect(missing.size).toBe(0);
          order.push("token");
        });
        await Promise.all([busy, paced]);
        // On the shared pool the lease waited for a free connection: "pool" first.
        expect(order).toEqual(["token", "pool"]);
      } finally {
        await platform.sql.end();
        await platform.pacingSql?.end();
      }
    },
  );
});
