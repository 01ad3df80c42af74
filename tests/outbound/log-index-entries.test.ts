/**
 * A row of the delivery log pays, on every insert and on every update of an indexed column (a
 * send's outcome, a status: never HOT), for an entry in each index whose predicate it meets. The
 * indexes for one direction's lookups hold only that direction's rows (migration
 * 20261202101600): the WhatsApp window's "last inbound from this sender" only inbound rows, the
 * person's outbound lookups (Meta's watermark receipts, a leased send's echo) only outbound rows.
 * Before, each held every row, so a post-call notification's 4 row versions each paid for an
 * inbound index they can never be found through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { buffersOf } from "../support/plan.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

const sizeOf = async (index: string) =>
  Number((await db.sql`select pg_relation_size(${`public.${index}`}::regclass) as n`)[0].n);

describe("the delivery log's per-direction indexes", () => {
  it("hold only their direction's rows, and still answer their lookups from a few pages", async () => {
    const { sql } = db;
    const inbound = "message_delivery_log_inbound_window_idx";
    const outbound = "message_delivery_log_outbound_recipient_idx";
    const emptyInbound = await sizeOf(inbound);
    const emptyOutbound = await sizeOf(outbound);

    // 20,000 sends to 2,000 people, then updated as their outcomes would be.
    await sql`insert into public.message_delivery_log
        (channel, direction, status, recipient, body, idempotency_key)
      select 'whatsapp', 'outbound', 'queued', '+2507882' || lpad((g % 2000)::text, 5, '0'), 'x',
             'idx-test:' || g
      from generate_series(1, 20000) g`;
    await sql`update public.message_delivery_log
      set status = 'sent', provider_message_id = 'wamid.idx-' || id, sent_at = now()
      where idempotency_key like 'idx-test:%'`;
    // The inbound index did not grow with them (it was a full index: 20,000 × 2 entries).
    expect(await sizeOf(inbound)).toBe(emptyInbound);
    const outboundAfterSends = await sizeOf(outbound);
    expect(outboundAfterSends).toBeGreaterThan(emptyOutbound);

    // 20,000 messages from 2,000 people: the outbound index does not grow with them.
    await sql`insert into public.message_delivery_log
        (channel, direction, status, sender, body, provider_message_id)
      select 'whatsapp', 'inbound', 'received', '+2507883' || lpad((g % 2000)::text, 5, '0'), 'hi',
             'wamid.idx-in-' || g
      from generate_series(1, 20000) g`;
    expect(await sizeOf(outbound)).toBe(outboundAfterSends);
    expect(await sizeOf(inbound)).toBeGreaterThan(emptyInbound);
    await sql`vacuum analyze public.message_delivery_log`;

    // The lookups these indexes are for still read a few pages, not the log.
    const lastInbound = `select max(m.created_at) from public.message_delivery_log m
      where m.channel = 'whatsapp' and m.direction = 'inbound' and m.sender = '+250788300042'`;
    expect((await sql.unsafe(lastInbound))[0].max).not.toBeNull();
    expect(await buffersOf(db, lastInbound)).toBeLessThan(10);
    const toPerson = `select count(*)::int as n from public.message_delivery_log m
      where m.channel = 'whatsapp' and m.direction = 'outbound' and m.recipient = '+250788200042'`;
    expect((await sql.unsafe(toPerson))[0].n).toBe(10);
    expect(await buffersOf(db, toPerson)).toBeLessThan(20);
  });
});
