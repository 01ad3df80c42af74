import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

describe("message_delivery_log uniqueness", () => {
  it("rejects a second row with the same channel and provider message id", async () => {
    await sql`
      insert into public.message_delivery_log (channel, direction, status, provider_message_id)
      values ('whatsapp', 'inbound', 'received', 'wamid.DUP1')`;
    await expect(sql`
      insert into public.message_delivery_log (channel, direction, status, provider_message_id)
      values ('whatsapp', 'inbound', 'received', 'wamid.DUP1')`).rejects.toMatchObject({
      code: "23505",
    });

    // The same id on another channel is another message.
    await sql`
      insert into public.message_delivery_log (channel, direction, status, provider_message_id)
      values ('sms', 'inbound', 'received', 'wamid.DUP1')`;
  });

  it("log_message_delivery is idempotent on (channel, provider_message_id)", async () => {
    const log = () =>
      sql`
      select * from public.log_message_delivery(
        p_channel => 'whatsapp', p_direction => 'inbound', p_status => 'received',
        p_provider => 'meta', p_provider_message_id => 'wamid.IDEM1', p_body => 'hello',
        p_sender => '+250788400001', p_metadata => ${sql.json({ attempt: 1 })})`;
    const [first] = await log();
    const [second] = await log();
    expect(second.id).toBe(first.id);
    const rows = await sql`
      select body, sender, status from public.message_delivery_log where provider_message_id = 'wamid.IDEM1'`;
    expect(rows).toEqual([{ body: "hello", sender: "+250788400001", status: "received" }]);
  });

  it("an idempotency key ties the queued send to the provider's id and its status callbacks", async () => {
    const [queued] = await sql`
      select * from public.log_message_delivery('sms', 'outbound', 'queued',
        p_idempotency_key => 'post_call:call-42:sms', p_recipient => '+250788400002',
        p_body => 'Your call summary', p_metadata => ${sql.json({ source: "post_call" })})`;
    expect(queued.queued_at).toBeInstanceOf(Date);

    const [sent] = await sql`
      select * from public.log_message_delivery('sms', 'outbound', 'sent', p_provider => 'mtn',
        p_provider_message_id => 'mtn-77', p_idempotency_key => 'post_call:call-42:sms',
        p_metadata => ${sql.json({ segments: 1 })})`;
    const [delivered] = await sql`
      select * from public.log_message_delivery('sms', 'outbound', 'delivered',
        p_provider_message_id => 'mtn-77')`;

    expect(new Set([queued.id, sent.id, delivered.id]).size).toBe(1);
    expect(delivered).toMatchObject({
      status: "delivered",
      provider: "mtn",
      body: "Your call summary",
      recipient: "+250788400002",
      metadata: { source: "post_call", segments: 1 },
    });
    expect(delivered.sent_at).toBeInstanceOf(Date);
    expect(delivered.delivered_at).toBeInstanceOf(Date);
  });

  it("keeps error details when a send fails", async () => {
    const [row] = await sql`
      select * from public.log_message_delivery('whatsapp', 'outbound', 'failed',
        p_idempotency_key => 'post_call:call-43:whatsapp', p_error_code => '131047',
        p_error_class => 'window_closed', p_error_message => 'Re-engagement message')`;
    expect(row).toMatchObject({
      status: "failed",
      error_code: "131047",
      error_class: "window_closed",
    });
    expect(row.failed_at).toBeInstanceOf(Date);
  });
});
