/**
 * Pacing tokens are leased in bulk per isolate: a burst of sends through one sender takes its
 * tokens from the sender's bucket a few at a time instead of one row update per send, and still
 * never faster than the bucket allows.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe("pacing leases", () => {
  it("40 sends through one 80/s sender: fewer than 40 bucket updates, and still paced at 80/s", async () => {
    let takes = 0;
    const counted = postgres(db.url, {
      prepare: false,
      max: 3,
      onnotice: () => {},
      debug: (_c, query) => {
        if (query.includes("take_send_token")) takes++;
      },
    }) as unknown as Sql;
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
    // 40 before leasing (105 with leases taken one token at a time by concurrent sends); 21–24 now.
    expect(takes).toBeLessThanOrEqual(30);
    // The bucket starts with its burst (rate / 10 = 8); the other 32 need 0.4 s at 80/s.
    expect(seconds).toBeGreaterThanOrEqual((40 - 8) / 80 * 0.9);
    await counted.end();
  });
});
