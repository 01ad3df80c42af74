/**
 * Fault injection for the outbox: providers down, throttling, concurrent and crashed
 * dispatchers, fallbacks with late statuses, manual retries. Time is moved by rewriting
 * next_attempt_at / leased_until in SQL, never by sleeping through a backoff.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestDatabase } from "../support/db.ts";
import { type FakeMtn, type FakeWhatsApp, whatsappError } from "../support/fake-providers.ts";
import { envVars, startTestEnv, type TestEnv } from "../support/env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";
import { recordDeliveryStatus } from "../../supabase/functions/_shared/outbound/delivery-status.ts";

let db: TestDatabase;
let wa: FakeWhatsApp;
let mtn: FakeMtn;
let seq = 0;

let testEnv: TestEnv;

beforeAll(async () => {
  testEnv = await startTestEnv();
  ({ db, wa, mtn } = testEnv);
});
afterAll(() => testEnv?.close());
beforeEach(async () => {
  testEnv.reset();
  // Each test starts from an empty outbox and fresh buckets.
  await db.sql`delete from public.message_delivery_log`;
  await db.sql`delete from public.sender_rate_limits`;
});

function env(rate = 1000) {
  return loadConfig({
    ...envVars(testEnv),
    WHATSAPP_RATE_PER_SECOND: String(rate),
    SMS_RATE_PER_SECOND: String(rate),
  });
}

function dispatcher(
  opts: { rate?: number; budgetMs?: number; batchSize?: number; sendTimeoutMs?: number } = {},
) {
  const log = memoryLogger();
  const deps = {
    sql: db.sql,
    logger: log,
    senders: createSenderDirectory(env(opts.rate), { timeoutMs: opts.sendTimeoutMs ?? 2_000 }),
    pacer: createPacer(db.sql),
  };
  const run = () =>
    dispatchDue(deps, {
      batchSize: opts.batchSize ?? 50,
      leaseSeconds: 60,
      timeBudgetMs: opts.budgetMs ?? 10_000,
      correlationId: "dispatch-test",
    });
  return { run, log };
}

const phone = () => `+25078${String(3_000_000 + ++seq).padStart(7, "0")}`;

/** Queues n outbound messages as the outbox holds them: due now, nobody holding them. */
async function enqueue(n: number, channel: "whatsapp" | "sms" = "whatsapp", metadata: object = {}) {
  const rows = Array.from({ length: n }, () => ({ recipient: phone(), body: `message ${seq}` }));
  const ids = await db.sql<{ id: string }[]>`
    insert into public.message_delivery_log (channel, direction, status, recipient, body, metadata)
    select ${channel}, 'outbound', 'queued', x.recipient, x.body, ${db.sql.json(metadata as never)}
    from jsonb_to_recordset(${db.sql.json(rows as never)}) as x(recipient text, body text)
    returning id`;
  return ids.map((r) => r.id);
}

/** Moves every scheduled retry (or lease) into the past, as if its time had come. */
async function timePasses() {
  await db.sql`update public.message_delivery_log
    set next_attempt_at = now() - interval '1 second' where status = 'queued' and next_attempt_at > now()`;
  await db.sql`update public.message_delivery_log
    set leased_until = now() - interval '1 second' where leased_until > now()`;
}

const waSends = () => wa.requests.filter((r) => r.method === "POST");
const recipientsOf = (reqs: { json?: unknown }[]) => reqs.map((r) => (r.json as { to: string }).to);

describe("dispatch", () => {
  it("delivers every message once after the provider recovers, recording attempts and backoff", async () => {
    const ids = await enqueue(12);
    wa.replyNext(
      ...Array.from(
        { length: 12 },
        () => whatsappError(131000, "Something went wrong", { status: 500 }),
      ),
    );
    const attemptedAt = new Date();
    const first = await dispatcher().run();
    expect(first).toMatchObject({ claimed: 12, sent: 0, retry_scheduled: 12 });

    // The first backoff is 12–18 s from the failure, which came after attemptedAt.
    const waiting = await db.sql`
      select attempts, error_code,
             next_attempt_at > ${attemptedAt}::timestamptz + interval '10 seconds' as backed_off
      from public.message_delivery_log where id = any(${ids}::uuid[])`;
    expect(waiting.every((r) => r.attempts === 1 && r.error_code === "131000" && r.backed_off))
      .toBe(true);
    expect((await dispatcher().run()).claimed).toBe(0); // not due yet: the backoff holds

    await timePasses();
    const second = await dispatcher().run();
    expect(second).toMatchObject({ claimed: 12, sent: 12 });
    const rows = await db
      .sql`select status, attempts, provider_message_id from public.message_delivery_log
      where id = any(${ids}::uuid[])`;
    expect(rows.every((r) => r.status === "sent" && r.attempts === 2)).toBe(true);
    expect(new Set(rows.map((r) => r.provider_message_id)).size).toBe(12);
    const delivered = recipientsOf(waSends().slice(12));
    expect(new Set(delivered).size).toBe(12);
  });

  it("gives up after the policy's attempts with the last error, and a manual retry really re-sends", async () => {
    const [id] = await enqueue(1);
    for (let i = 0; i < 8; i++) {
      wa.replyNext(whatsappError(131016, "Service unavailable", { status: 503 }));
      await dispatcher().run();
      await timePasses();
    }
    const [row] = await db
      .sql`select status, attempts, error_code, error_class from public.message_delivery_log where id = ${id}`;
    expect(row).toMatchObject({
      status: "failed",
      attempts: 8,
      error_code: "131016",
      error_class: "retryable",
    });
    expect((await dispatcher().run()).claimed).toBe(0);

    const [{ retry }] = await db.sql`select public.retry_delivery(${id}) as retry`;
    const report = await dispatcher().run();
    expect(report).toMatchObject({ claimed: 1, sent: 1 });
    const [again] = await db
      .sql`select status, retry_of from public.message_delivery_log where id = ${retry}`;
    expect(again).toEqual({ status: "sent", retry_of: id });
  });

  it("does not retry a permanent error", async () => {
    const [id] = await enqueue(1);
    wa.replyNext(whatsappError(131009, "Parameter value is not valid"));
    await dispatcher().run();
    await timePasses();
    expect((await dispatcher().run()).claimed).toBe(0);
    const [row] = await db
      .sql`select status, attempts from public.message_delivery_log where id = ${id}`;
    expect(row).toEqual({ status: "failed", attempts: 1 });
  });

  it("slows a throttled sender down and loses nothing", async () => {
    const ids = await enqueue(10);
    wa.replyNext(...Array.from({ length: 4 }, () => ({
      ...whatsappError(130429, "Rate limit hit", { status: 429 }),
      headers: { "retry-after": "1" },
    })));
    const first = await dispatcher().run();
    expect(first.throttled).toBeGreaterThanOrEqual(1);
    const [bucket] = await db
      .sql`select slowed_until > now() as slowed from public.sender_rate_limits
      where sender_key = ${`whatsapp:${wa.phoneNumberId}`}`;
    expect(bucket.slowed).toBe(true);
    await timePasses();
    await dispatcher().run();
    const rows = await db
      .sql`select status from public.message_delivery_log where id = any(${ids}::uuid[])`;
    expect(rows.map((r) => r.status)).toEqual(Array(10).fill("sent"));
  });

  it.each([2, 4, 8])(
    "never sends a row twice with %i dispatchers on the same due rows",
    async (n) => {
      await enqueue(400);
      // Sends get 30 s, not 2: on a loaded CI machine (the fake provider and the embedded
      // database share this process) a send once outran 2 s, and its row became `unknown`
      // (TIMEOUT), due again only after 5 minutes: 395 of 400 sent, none twice. A timeout is its
      // own test (supabase/tests/unknown-status.test.ts); this one is about concurrent dispatchers.
      const d = () => dispatcher({ batchSize: 10, sendTimeoutMs: 30_000 });
      const reports = await Promise.all(Array.from({ length: n }, () => d().run()));
      // On a loaded machine a time budget (wall clock) may end before the outbox is empty: what is
      // left stays due (or comes due once its pacing wait has passed), and more runs send it.
      // Twice-sent rows would still show below.
      const sent = () => reports.reduce((a, r) => a + r.sent, 0);
      for (let i = 0; i < 50 && sent() < 400; i++) {
        const more = await d().run();
        reports.push(more);
        if (more.claimed === 0) await new Promise((r) => setTimeout(r, 200));
      }
      // Failing, it says what the rows not sent were left as (a CI run on a loaded machine once
      // ended with 397 of 400 sent, none twice, and no way to tell why).
      const left = sent() === 400 ? [] : await db.sql`
        select status, error_code, attempts, next_attempt_at > now() as waiting,
               leased_until > now() as leased, count(*)::int as n
        from public.message_delivery_log
        where direction = 'outbound' and status <> 'sent'
        group by 1, 2, 3, 4, 5`;
      expect(sent(), `rows not sent: ${JSON.stringify(left)}`).toBe(400);
      const to = recipientsOf(waSends());
      expect(to).toHaveLength(400);
      expect(new Set(to).size).toBe(400);
    },
  );

  it("sends the rows of a dispatcher that died mid-batch once its lease has expired", async () => {
    const ids = await enqueue(5);
    // A dispatcher claims the rows and dies before sending any of them.
    await db.sql`select id from public.claim_due_deliveries(5, 30)`;
    expect((await dispatcher().run()).claimed).toBe(0);
    expect(waSends()).toHaveLength(0);
    await timePasses();
    expect(await dispatcher().run()).toMatchObject({ claimed: 5, sent: 5 });
    const rows = await db
      .sql`select status from public.message_delivery_log where id = any(${ids}::uuid[])`;
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill("sent"));
  });

  it("paces a sender to its rate: never more than rate + burst requests in any second", async () => {
    await enqueue(60);
    const report = await dispatcher({ rate: 40 }).run();
    expect(report.sent).toBe(60);
    const times = waSends().map((r) => r.receivedAt);
    expect(times).toHaveLength(60);
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i] && t < times[i] + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(40 + 4 + 1);
    }
  });

  it("sends the SMS fallback once, even with a late status and a second dispatcher", async () => {
    const [id] = await enqueue(1, "whatsapp", {
      fallback: { channel: "sms", body: "Your summary by SMS" },
    });
    wa.replyNext(whatsappError(131026, "Message undeliverable"));
    const report = await dispatcher().run();
    expect(report.sent).toBe(1); // the fallback SMS, in the same run
    expect(mtn.sendRequests()).toHaveLength(1);
    expect((mtn.sendRequests()[0].json as { message: string }).message).toBe("Your summary by SMS");

    const [wamid] = await db
      .sql`select provider_message_id from public.message_delivery_log where id = ${id}`;
    if (wamid.provider_message_id) {
      await recordDeliveryStatus(db.sql, {
        channel: "whatsapp",
        providerMessageId: wamid.provider_message_id,
        status: "delivered",
      });
    }
    await db.sql`select public.enqueue_sms_fallback(${id})`;
    await timePasses();
    await Promise.all([dispatcher().run(), dispatcher().run()]);
    expect(mtn.sendRequests()).toHaveLength(1);
    const fallbacks = await db
      .sql`select status from public.message_delivery_log where fallback_of = ${id}`;
    expect(fallbacks).toEqual([{ status: "sent" }]);
  });

  it("queues the SMS fallback when a sent WhatsApp message later reports failed, once", async () => {
    const [id] = await enqueue(1, "whatsapp", {
      fallback: { channel: "sms", body: "Fallback after status" },
    });
    await dispatcher().run();
    const [row] = await db
      .sql`select provider_message_id from public.message_delivery_log where id = ${id}`;
    const failed = {
      channel: "whatsapp" as const,
      providerMessageId: row.provider_message_id,
      status: "failed" as const,
      errorCode: "131026",
    };
    await recordDeliveryStatus(db.sql, failed);
    await recordDeliveryStatus(db.sql, failed);
    await dispatcher().run();
    await recordDeliveryStatus(db.sql, { ...failed, status: "delivered" });
    await dispatcher().run();
    expect(mtn.sendRequests()).toHaveLength(1);
    expect((mtn.sendRequests()[0].json as { message: string }).message).toBe(
      "Fallback after status",
    );
  });

  it("never sends a fallback SMS to a person who opted out", async () => {
    const to = phone();
    const [p] = await db
      .sql`insert into public.profiles (phone_number, allows_sms) values (${to}, false) returning id`;
    const [w] = await db
      .sql`insert into public.message_delivery_log (channel, direction, status, recipient, body, profile_id, metadata)
      values ('whatsapp', 'outbound', 'queued', ${to}, 'hi', ${p.id}, '{"fallback":{"channel":"sms","body":"hi"}}') returning id`;
    wa.replyNext(whatsappError(131026, "Message undeliverable"));
    await dispatcher().run();
    expect(mtn.sendRequests()).toHaveLength(0);
    const [fb] = await db
      .sql`select status, error_code from public.message_delivery_log where fallback_of = ${w.id}`;
    expect(fb).toEqual({ status: "blocked", error_code: "SMS.OPTED_OUT" });
  });

  it("blocks a WhatsApp message queued for retry when its recipient writes STOP before the retry", async () => {
    const [id] = await enqueue(1, "whatsapp");
    const [row] = await db.sql`select recipient from public.message_delivery_log where id = ${id}`;
    await db.sql`select * from public.set_channel_preference(${row.recipient}, 'whatsapp', false)`;
    const report = await dispatcher().run();
    expect(report.claimed).toBe(0);
    expect(waSends()).toHaveLength(0);
    const [after] = await db
      .sql`select status, error_code, body from public.message_delivery_log where id = ${id}`;
    expect(after).toMatchObject({ status: "blocked", error_code: "WHATSAPP.OPTED_OUT" });
    expect(after.body).toMatch(/^message /);
  });

  it("blocks an SMS queued for retry when its recipient opts out before the retry", async () => {
    const [id] = await enqueue(1, "sms");
    const [row] = await db.sql`select recipient from public.message_delivery_log where id = ${id}`;
    await db.sql`select * from public.set_sms_preference(${row.recipient}, false)`;
    const report = await dispatcher().run();
    expect(report.claimed).toBe(0);
    expect(mtn.sendRequests()).toHaveLength(0);
    const [after] = await db
      .sql`select status, error_code from public.message_delivery_log where id = ${id}`;
    expect(after).toEqual({ status: "blocked", error_code: "SMS.OPTED_OUT" });
  });
});
