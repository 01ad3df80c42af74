/**
 * A send whose outcome cannot be written must never be sent again: the provider already has it.
 * The database refuses the first outcome write for one recipient (a trigger, the fault injected
 * in Postgres itself); the tool call, then dispatch once every lease and backoff has passed, must
 * leave exactly one message at the provider and the row sent with its provider id.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { createMessagingToolsHandler } from "../../supabase/functions/_shared/messaging-tools/handler.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_for_outcome_tests_0123456789";
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  // Fails the first write of an outcome (the row leaving queued) for recipients listed in
  // test_fail_outcome; a sequence, not a table row, counts, so the rollback does not undo it.
  await h.db.sql.unsafe(`
    create table public.test_fail_outcome (recipient text primary key, seq text not null, times int not null);
    create function public.test_fail_outcome() returns trigger language plpgsql as $$
    declare v_seq text; v_times int;
    begin
      select f.seq, f.times into v_seq, v_times from public.test_fail_outcome f where f.recipient = new.recipient;
      if v_seq is not null and old.status = 'queued' and new.status <> 'queued'
         and nextval(v_seq::regclass) <= v_times then
        raise exception 'injected: the outcome write fails once';
      end if;
      return new;
    end $$;
    create trigger test_fail_outcome before update on public.message_delivery_log
      for each row execute function public.test_fail_outcome();`);
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

async function failFirstOutcomesFor(phone: string, times: number) {
  const seq = `public.test_fail_${phone.slice(1)}`;
  await h.db.sql.unsafe(`create sequence ${seq}`);
  await h.db.sql`insert into public.test_fail_outcome values (${phone}, ${seq}, ${times})`;
}

const tool = (args: Record<string, unknown>) =>
  createMessagingToolsHandler({
    ...h.senders(),
    auth: secretKeyAuth("messaging-tools", SECRET_KEY),
  })(
    new Request("http://localhost/messaging-tools", {
      method: "POST",
      headers: { "content-type": "application/json", apikey: SECRET_KEY },
      body: JSON.stringify({ name: "messaging_send_sms", arguments: args }),
    }),
  );

/** Every lease and backoff over, then one dispatch round: whatever is still due is sent now. */
async function dispatchAfterEverythingIsDue() {
  await h.db
    .sql`update public.message_delivery_log set next_attempt_at = now() - interval '1 second',
    leased_until = now() - interval '1 second' where direction = 'outbound'`;
  const env = loadConfig({
    SUPABASE_DB_URL: h.db.url,
    MTN_SMS_API_BASE_URL: h.mtn.baseUrl,
    MTN_SMS_API_KEY: h.mtn.apiKey,
    MTN_SMS_API_SECRET: h.mtn.apiSecret,
    MTN_SMS_SENDER_ID: h.mtn.senderId,
  });
  return dispatchDue(
    {
      sql: h.db.sql,
      logger: memoryLogger(),
      senders: createSenderDirectory(env),
      pacer: createPacer(h.db.sql),
    },
    { batchSize: 50, leaseSeconds: 60, timeBudgetMs: 5_000, correlationId: "outcome-write" },
  );
}

async function rowOf(phone: string) {
  const rows = await h.db.sql`select status, provider_message_id from public.message_delivery_log
    where direction = 'outbound' and recipient = ${phone}`;
  expect(rows).toHaveLength(1);
  return rows[0];
}

describe("recording a send's outcome", () => {
  it("an outcome write that fails once is retried: one provider call, the row sent with its id", async () => {
    const phone = h.newPhone();
    await failFirstOutcomesFor(phone, 1);
    const res = await tool({ phone_number: phone, message: "Your order is ready" });
    expect(res.status).toBe(200);
    const { result } = await res.json();
    expect(result).toMatchObject({ status: "sent", provider_message_id: expect.any(String) });
    await dispatchAfterEverythingIsDue();
    expect(sentSms(h).map((m) => m.message)).toEqual(["Your order is ready"]);
    expect(await rowOf(phone)).toEqual({
      status: "sent",
      provider_message_id: result.provider_message_id,
    });
  });

  it("an outcome that cannot be written at all is parked sent with the provider id: dispatch never sends it again", async () => {
    const phone = h.newPhone();
    await failFirstOutcomesFor(phone, 4); // every attempt of record_outbound_outcomes; the park succeeds
    const res = await tool({ phone_number: phone, message: "Parked" });
    expect(res.status).toBe(200);
    const { result } = await res.json();
    expect(result).toMatchObject({ status: "sent", provider_message_id: expect.any(String) });
    await dispatchAfterEverythingIsDue();
    expect(sentSms(h).map((m) => m.message)).toEqual(["Parked"]);
    expect(await rowOf(phone)).toEqual({
      status: "sent",
      provider_message_id: result.provider_message_id,
    });
  });

  it("a lone surrogate in a tool's message is made safe before the send: one provider call, row sent", async () => {
    const phone = h.newPhone();
    const res = await tool({ phone_number: phone, message: "price \ud800 250k\u0000" });
    expect(res.status).toBe(200);
    const { result } = await res.json();
    expect(result.status).toBe("sent");
    await dispatchAfterEverythingIsDue();
    expect(sentSms(h).map((m) => m.message)).toEqual(["price \ufffd 250k"]);
    expect(await rowOf(phone)).toMatchObject({
      status: "sent",
      provider_message_id: result.provider_message_id,
    });
  });
});
