/**
 * Bulk email: dispatch sends the due emails of one sender through Resend's batch endpoint, up to
 * 100 per call and one pacing token per call, and records each email on its own row.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeResend, resendError, startFakeResend } from "../support/fake-providers.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";

let db: TestDatabase;
let resend: FakeResend;

beforeAll(async () => {
  [db, resend] = await Promise.all([createTestDatabase(), startFakeResend()]);
});
afterAll(() => Promise.all([db?.close(), resend?.close()]));
beforeEach(async () => {
  resend.reset();
  await db.sql`delete from public.message_delivery_log`;
  await db.sql`delete from public.sender_rate_limits`;
});

function dispatcher(rate = 50) {
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    RESEND_API_BASE_URL: resend.baseUrl,
    RESEND_API_KEY: resend.apiKey,
    EMAIL_FROM: "Acme <news@acme.test>",
    EMAIL_RATE_PER_SECOND: String(rate),
  });
  const deps = {
    sql: db.sql,
    logger: memoryLogger(),
    senders: createSenderDirectory(env, { timeoutMs: 5_000 }),
    pacer: createPacer(db.sql),
  };
  return () =>
    dispatchDue(deps, {
      batchSize: 500,
      leaseSeconds: 60,
      timeBudgetMs: 20_000,
      correlationId: "dispatch-email-test",
    });
}

/** Queues n emails as the outbox holds them: due now, with their subject and HTML. */
async function enqueueEmails(n: number, extra: Record<string, unknown> = {}) {
  const rows = Array.from({ length: n }, (_, i) => ({
    recipient: `person${i}@example.com`,
    body: `Hello ${i}`,
  }));
  const metadata = { email: { subject: "November news", html: "<p>News</p>", ...extra } };
  const ids = await db.sql<{ id: string }[]>`
    insert into public.message_delivery_log (channel, direction, status, recipient, body, metadata, message_type)
    select 'email', 'outbound', 'queued', x.recipient, x.body, ${
    db.sql.json(metadata as never)
  }, 'email'
    from jsonb_to_recordset(${db.sql.json(rows as never)}) as x(recipient text, body text)
    returning id`;
  return ids.map((r) => r.id);
}

describe("bulk email through dispatch", () => {
  it("1,000 due emails for one sender leave in at most 10 batch calls, each row with its own id", async () => {
    const ids = await enqueueEmails(1_000);
    // As pg_cron calls it: again while rows are due (on a loaded machine one call's time budget
    // may end after its first round).
    const run = dispatcher();
    let sent = 0;
    for (let call = 0; call < 5 && sent < 1_000; call++) sent += (await run()).sent;
    expect(sent).toBe(1_000);

    const calls = resend.sendRequests();
    expect(calls.length).toBeLessThanOrEqual(10);
    expect(calls.every((c) => c.path === "/emails/batch")).toBe(true);
    expect(calls.every((c) => (c.json as unknown[]).length <= 100)).toBe(true);
    const first = (calls[0].json as Record<string, unknown>[])[0];
    expect(first).toMatchObject({
      from: "Acme <news@acme.test>",
      subject: "November news",
      html: "<p>News</p>",
    });

    const rows = await db.sql<{ id: string; status: string; provider_message_id: string }[]>`
      select id, status, provider_message_id from public.message_delivery_log where id = any(${ids})`;
    expect(rows.every((r) => r.status === "sent")).toBe(true);
    const providerIds = new Set(rows.map((r) => r.provider_message_id));
    expect(providerIds.size).toBe(1_000);
    expect([...providerIds].sort()).toEqual(resend.sentEmails().map((e) => e.id).sort());
    // Each row got the id of the email sent to its own recipient.
    const byId = new Map(resend.sentEmails().map((e) => [e.id, (e.email.to as string[])[0]]));
    const recipients = await db.sql<{ recipient: string; provider_message_id: string }[]>`
      select recipient, provider_message_id from public.message_delivery_log where id = any(${ids})`;
    expect(recipients.every((r) => byId.get(r.provider_message_id) === r.recipient)).toBe(true);
  });

  it("an email with an attachment goes alone; a throttled batch is retried later, not lost", async () => {
    await enqueueEmails(3);
    await enqueueEmails(1, { attachments: [{ filename: "a.txt", content: btoa("a") }] });
    resend.replyNext(resendError("rate_limit_exceeded", "Too many requests", 429));
    const report = await dispatcher()();
    const paths = resend.sendRequests().map((c) => c.path).sort();
    expect(paths).toEqual(["/emails", "/emails/batch"]);
    expect(report.sent + report.retry_scheduled).toBe(4);
    expect(report.throttled).toBeGreaterThan(0);
    const statuses = await db.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.message_delivery_log group by status`;
    expect(statuses.reduce((a, s) => a + s.n, 0)).toBe(4);
    expect(statuses.every((s) => s.status === "sent" || s.status === "queued")).toBe(true);
  });
});
