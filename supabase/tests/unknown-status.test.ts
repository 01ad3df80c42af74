import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

/** The `unknown` status: a send that timed out, waiting for the provider's callback. */
let db: TestDatabase;
let sql: Sql;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

/** One outbound row as begin_outbound_message leaves it (queued, leased), then a TIMEOUT recorded. */
async function timedOut(channel: "whatsapp" | "sms" = "sms") {
  const phone = `+25078${String(6_200_000 + ++seq).padStart(7, "0")}`;
  const [row] =
    await sql`select * from public.begin_outbound_message(${channel}, ${phone}, 'hi', null, 'tool', 'corr', null, 'text')`;
  const [out] =
    await sql`select * from public.record_outbound_outcome(${row.delivery_id}, false, 'mtn',
    p_error_code => 'TIMEOUT', p_error_class => 'retryable', p_error_message => 'No answer')`;
  return { id: row.delivery_id as string, phone, out };
}

const statusOf = async (id: string) =>
  (await sql`select status, provider_message_id from public.message_delivery_log where id = ${id}`)[
    0
  ];

describe("status unknown", () => {
  it("a TIMEOUT makes the row unknown, due only after the unknown wait (5 minutes by default)", async () => {
    const { id, out } = await timedOut();
    expect(out.status).toBe("unknown");
    const [r] = await sql`select next_attempt_at > now() + interval '4 minutes 50 seconds' as waits,
      next_attempt_at < now() + interval '5 minutes 10 seconds' as bounded from public.message_delivery_log where id = ${id}`;
    expect(r).toEqual({ waits: true, bounded: true });
    expect(await sql`select id from public.claim_due_deliveries(100, 60) where id = ${id}`)
      .toHaveLength(0);
  });

  it("the wait is configurable per database (omnichannel.unknown_delivery_wait)", async () => {
    await sql.begin(async (tx) => {
      await tx`select set_config('omnichannel.unknown_delivery_wait', '20 minutes', true)`;
      const [r] = await tx`select public.delivery_unknown_wait() as wait`;
      expect(r.wait).toBe("00:20:00");
    });
  });

  it("a callback carrying the row id records the provider id and moves it to sent; dispatch skips it", async () => {
    const { id } = await timedOut();
    const [r] =
      await sql`select * from public.record_delivery_status('sms', 'req-echo-1', 'delivered', p_delivery_id => ${id})`;
    expect(r).toMatchObject({
      matched: true,
      delivery_id: id,
      previous_status: "unknown",
      current_status: "delivered",
    });
    expect(await statusOf(id)).toEqual({ status: "delivered", provider_message_id: "req-echo-1" });
    await sql`update public.message_delivery_log set next_attempt_at = now() - interval '1 second' where id = ${id}`;
    expect(await sql`select id from public.claim_due_deliveries(100, 60) where id = ${id}`)
      .toHaveLength(0);
  });

  it("a row that already has a provider id is never matched by an echoed id (no hijack)", async () => {
    const { id } = await timedOut();
    await sql`select public.record_delivery_status('sms', 'req-own', 'sent', p_delivery_id => ${id})`;
    const [r] =
      await sql`select * from public.record_delivery_status('sms', 'req-other', 'failed', p_delivery_id => ${id})`;
    expect(r.matched).toBe(false);
    expect(await statusOf(id)).toEqual({ status: "sent", provider_message_id: "req-own" });
  });

  it("a late timeout after the callback said sent changes nothing", async () => {
    const { id } = await timedOut();
    await sql`select public.record_delivery_status('sms', 'req-late', 'sent', p_delivery_id => ${id})`;
    const [out] = await sql`select * from public.record_outbound_outcome(${id}, false, 'mtn',
      p_error_code => 'TIMEOUT', p_error_class => 'retryable')`;
    expect(out.status).toBe("sent");
    const [row] =
      await sql`select status, error_code, provider_message_id from public.message_delivery_log where id = ${id}`;
    expect(row).toEqual({ status: "sent", error_code: null, provider_message_id: "req-late" });
    await sql`update public.message_delivery_log set next_attempt_at = now() - interval '1 second' where id = ${id}`;
    expect(await sql`select id from public.claim_due_deliveries(100, 60) where id = ${id}`)
      .toHaveLength(0);
  });

  it("status order: unknown never goes back to queued; it can end failed or blocked", async () => {
    const { id, phone } = await timedOut();
    await sql`update public.message_delivery_log set status = 'queued' where id = ${id}`;
    expect((await statusOf(id)).status).toBe("unknown");
    // The person opts out before the retry: the unknown SMS is blocked at claim, never sent.
    await sql`update public.profiles set allows_sms = false where phone_number = ${phone}`;
    await sql`update public.message_delivery_log set next_attempt_at = now() - interval '1 second' where id = ${id}`;
    expect(await sql`select id from public.claim_due_deliveries(100, 60) where id = ${id}`)
      .toHaveLength(0);
    expect((await statusOf(id)).status).toBe("blocked");
  });
});
