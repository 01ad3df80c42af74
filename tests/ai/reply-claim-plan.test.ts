/**
 * The reply claim reads one message by its primary key, whatever the statistics say: with
 * statistics taken while the log held no inbound message (a new project after an import of
 * outbound history; the benchmark after its seeding), the claim used to read the whole partial
 * index of inbound messages instead, so every reply cost more as the inbox grew.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { buffersOf } from "../support/plan.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("the reply claim under stale statistics", () => {
  it("claims and completes a reply reading a few pages, not every inbound message", async () => {
    const { sql } = db;
    await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body)
      select 'whatsapp', 'outbound', 'sent', '+250788000000', 'history' from generate_series(1, 2000)`;
    await sql`analyze public.message_delivery_log`;
    // Then the inbound traffic, after the statistics.
    const rows = await sql`insert into public.message_delivery_log
        (channel, direction, status, sender, body, reply_state)
      select 'whatsapp', 'inbound', 'received', '+25078' || lpad(g::text, 7, '0'), 'hi', 'pending'
      from generate_series(1, 20000) g
      returning id`;
    const last = rows.at(-1)!.id as string;
    // Warm: the first call of a connection also reads the catalogs to plan the functions.
    const warm = rows.at(-2)!.id as string;
    await sql`select * from public.claim_inbound_reply_context(${warm}::uuid, 120, 20)`;
    await sql`select public.complete_inbound_reply(${warm}::uuid, 'done')`;

    const claim = await buffersOf(
      db,
      `select * from public.claim_inbound_reply_context('${last}'::uuid, 120, 20)`,
    );
    const complete = await buffersOf(
      db,
      `select public.complete_inbound_reply('${last}'::uuid, 'done')`,
    );
    const [row] = await sql`select reply_state from public.message_delivery_log where id = ${last}`;
    expect(row.reply_state).toBe("done");
    // An update by primary key and its index entries: tens of pages. Reading the inbound index
    // would be hundreds (20,000 entries).
    expect(claim).toBeLessThan(120);
    expect(complete).toBeLessThan(120);
  });
});
