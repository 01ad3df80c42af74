/**
 * The WhatsApp 24-hour window is read from one person's messages, whatever the statistics say.
 * On a log never analysed (a new project, or one that grew fast since autovacuum last looked),
 * the probe used to be planned as the person's index AND the channel's half of the provider-id
 * index, so each check read every WhatsApp message's index entry: 1.28 ms a post-call
 * notification in the benchmark, where it takes 0.02 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { buffersOf } from "../support/plan.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("whatsapp_window_open on a never-analysed log", () => {
  it("answers from the person's own messages, reading a few pages", async () => {
    const { sql } = db;
    const [open, closed] = await sql`insert into public.profiles (phone_number)
      values ('+250788100001'), ('+250788100002') returning id`;
    // Everyone else's WhatsApp traffic, with provider ids (the provider-id index by channel).
    await sql`insert into public.message_delivery_log
        (channel, direction, status, recipient, body, provider_message_id)
      select 'whatsapp', 'outbound', 'sent', '+250788000000', 'x', 'wamid.other-' || g
      from generate_series(1, 40000) g`;
    await sql`insert into public.message_delivery_log
        (profile_id, channel, direction, status, sender, body, provider_message_id)
      values (${open.id}, 'whatsapp', 'inbound', 'received', '+250788100001', 'hi', 'wamid.in-1')`;
    await sql`insert into public.message_delivery_log
        (profile_id, channel, direction, status, recipient, body, provider_message_id)
      values (${closed.id}, 'whatsapp', 'outbound', 'sent', '+250788100002', 'hello', 'wamid.out-1')`;
    const [{ analysed }] = await sql`select last_analyze is not null or last_autoanalyze is not null
        as analysed from pg_stat_user_tables where relname = 'message_delivery_log'`;
    expect(analysed).toBe(false);

    const [answers] = await sql`select public.whatsapp_window_open(${open.id}) as open,
      public.whatsapp_window_open(${closed.id}) as closed`;
    expect(answers).toEqual({ open: true, closed: false });
    // The person's index entries and their rows: 9 pages here. With the channel's half of the
    // provider-id index (40,000 entries) it read 43, and more as the log grows.
    expect(await buffersOf(db, `select public.whatsapp_window_open('${open.id}'::uuid)`))
      .toBeLessThan(20);
    expect(await buffersOf(db, `select public.whatsapp_window_open('${closed.id}'::uuid)`))
      .toBeLessThan(20);
  });
});
