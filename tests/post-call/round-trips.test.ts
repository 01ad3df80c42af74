/**
 * post-call's cost in the database: 2 round trips per notification — the claim (which also
 * leases the senders' pacing tokens and reads the person's email address) and both outcomes in
 * one call — with pacing on, and still never faster than the senders' buckets allow.
 */
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sendersFor, startTestEnv, type TestEnv } from "../support/env.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createPostCallNotifyHandler } from "../../supabase/functions/_shared/post-call-notify/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_for_tests_0123456789";
const SUMMARY = "We agreed on a new monthly price of 250k. Delivery moved to Friday morning.";

let env: TestEnv;
let counted: Sql;
const statements: string[] = [];
/** For each statement, whether it leased pacing tokens: a claim asking for some, or a take. */
const leases: boolean[] = [];
let seq = 0;

beforeAll(async () => {
  env = await startTestEnv();
  counted = postgres(env.db.url, {
    prepare: false,
    max: 4,
    onnotice: () => {},
    // postgres.js reads the array types once per client, before its first query: not a round
    // trip of any notification.
    debug: (_c, query, params) => {
      if (query.includes("pg_catalog.pg_type")) return;
      statements.push(query);
      leases.push(
        query.includes("take_send_token") ||
          (query.includes("begin_post_call_notification_paced") &&
            JSON.stringify(params).includes("sender_key")),
      );
    },
  }) as unknown as Sql;
});
afterAll(async () => {
  await counted?.end();
  await env?.close();
});
beforeEach(() => env.reset());

function handler(rate: number) {
  const vars = { WHATSAPP_RATE_PER_SECOND: String(rate), SMS_RATE_PER_SECOND: String(rate) };
  return createPostCallNotifyHandler({
    sql: counted,
    logger: memoryLogger(),
    // Generous deadlines: a loaded machine must not turn a slow send into a failed one here.
    senders: sendersFor(env, { vars, timeoutMs: 10_000 }),
    maxWaitMs: 20_000,
    pacer: createPacer(counted),
    auth: secretKeyAuth("post-call-notify", SECRET_KEY),
    defaultCountry: "RW",
    config: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 0,
      summaryPollMs: 50,
      sendTimeoutMs: 12_000,
    },
  });
}

async function notify(h: ReturnType<typeof handler>, tag: string) {
  const i = ++seq;
  const res = await h(
    new Request("http://localhost/post-call-notify", {
      method: "POST",
      headers: { "content-type": "application/json", apikey: SECRET_KEY },
      body: JSON.stringify({
        call_id: `rt-${tag}-${i}`,
        phone_number: `+25078${String(5_000_000 + i * 13).padStart(7, "0")}`,
        summary: SUMMARY,
      }),
    }),
  );
  expect(res.status).toBe(200);
  return (await res.json()) as { outcome: string };
}

describe("post-call round trips", () => {
  it("each notification takes 2 statements with pacing on, the first one in an isolate included", async () => {
    const h = handler(1_000);
    for (let n = 0; n < 5; n++) {
      statements.length = 0;
      expect((await notify(h, "count")).outcome).toBe("sent");
      expect(statements.length, statements.join("\n")).toBe(2);
      expect(statements[0]).toContain("begin_post_call_notification_paced");
      expect(statements[1]).toContain("record_outbound_outcomes");
    }
    expect(env.wa.requests).toHaveLength(5);
    expect(env.mtn.sendRequests()).toHaveLength(5);
    // The tokens came out of the senders' buckets (taken inside the claim).
    const buckets = await env.db.sql<{ sender_key: string }[]>`
      select sender_key from public.sender_rate_limits
      where sender_key like 'whatsapp:%' or sender_key like 'sms:%' order by sender_key`;
    expect(buckets.map((b) => b.sender_key.split(":")[0])).toEqual(["sms", "whatsapp"]);
  });

  it("20 notifications at once: one claim leases the tokens and the others' sends wait for it, not 20 claims queued on the senders' rows", async () => {
    const h = handler(1_000);
    statements.length = 0;
    leases.length = 0;
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => notify(h, "crowd")));
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(20).fill("sent"));
    expect(env.wa.requests).toHaveLength(20);
    expect(env.mtn.sendRequests()).toHaveLength(20);
    // Every claim asked before (20 of 20 took both senders' rows); now the first asks, and a
    // lease more only if its tokens expired (100 ms) before a slow machine reached the sends.
    expect(leases.filter(Boolean).length, statements.join("\n")).toBeLessThanOrEqual(3);
  });

  it("tokens taken in the claim still pace: 10 notifications at once through 20/s senders take their time, and all go", async () => {
    const key = (prefix: string) =>
      env.db.sql`delete from public.sender_rate_limits where sender_key like ${prefix}`;
    await key("whatsapp:%");
    await key("sms:%");
    const h = handler(20);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => notify(h, "paced")));
    const seconds = (performance.now() - started) / 1000;
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(10).fill("sent"));
    expect(env.wa.requests).toHaveLength(10);
    // A fresh bucket holds its burst (rate / 10 = 2); the other 8 need 0.4 s at 20/s.
    expect(seconds).toBeGreaterThanOrEqual((10 - 2) / 20 * 0.9);
  });
});
