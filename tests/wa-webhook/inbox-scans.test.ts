/**
 * The webhooks accept into the inboxes, and the inbox workers mark their batch processed, by key,
 * never by reading an inbox whole. The
 * inboxes keep processed rows for 7 days (purge_processed_inboxes), so they hold tens of
 * thousands of rows and more. Before, the batch's rows were matched with `id in (select … from
 * jsonb_array_elements(…))`, which the planner takes for 100 rows: on an inbox of this size it
 * hashed the batch and read every row of the inbox, once per batch (the status benchmark counted
 * 111 such scans reading 4.2 million rows).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { acceptDeliveryStatusesBatched } from "../../supabase/functions/_shared/inbox/record-statuses-batch.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  // A week of processed rows, analysed so the planner knows the inboxes' size.
  await db
    .sql`insert into public.inbound_inbox (channel, provider_message_id, sender, message, processed_at)
    select 'whatsapp', 'wamid.earlier-' || g, '+250780000001', '{}'::jsonb, now() - interval '1 day'
    from generate_series(1, 20000) g`;
  await db
    .sql`insert into public.status_inbox (channel, provider_message_id, status, payload, processed_at)
    select 'whatsapp', 'wamid.earlier-' || g, 'delivered', '{}'::jsonb, now() - interval '1 day'
    from generate_series(1, 20000) g`;
  await db.sql`analyze public.inbound_inbox, public.status_inbox`;
});
afterAll(() => db?.close());

/** Rows the call read by scanning `table` whole, counted around it in one transaction. */
async function scanned(table: string, call: (tx: Sql) => Promise<unknown>): Promise<number> {
  return await db.sql.begin(async (tx) => {
    // The view also holds this connection's counts not yet flushed from earlier transactions,
    // so only the difference is the call's.
    const read = async () =>
      Number(
        (await tx`select seq_tup_read from pg_stat_xact_user_tables where relname = ${table}`)[0]
          .seq_tup_read,
      );
    const before = await read();
    await call(tx as unknown as Sql);
    return (await read()) - before;
  });
}

describe("the inboxes among a week of processed rows", () => {
  it("accept a batch of messages, one of them again, without reading the inbound inbox whole", async () => {
    const batch = (ids: string[]) =>
      db.sql.json(
        ids.map((id) => ({
          channel: "whatsapp",
          sender: "+250788300200",
          provider_message_id: id,
        })),
      );
    await db.sql`select * from public.accept_inbound_messages(${batch(["wamid.accept-0"])})`;
    try {
      let accepted: { ordinal: string; is_new: boolean }[] = [];
      const read = await scanned("inbound_inbox", async (tx) => {
        accepted = await tx`select ordinal, is_new from public.accept_inbound_messages(${
          batch(["wamid.accept-0", "wamid.accept-1", "wamid.accept-2"])
        }) order by ordinal`;
      });
      // The one accepted before is found by its key, the two new ones inserted.
      expect(accepted.map((a) => a.is_new)).toEqual([false, true, true]);
      expect(read).toBe(0);
    } finally {
      // Not left for the next test's worker to derive.
      await db.sql`update public.inbound_inbox set processed_at = now()
        where provider_message_id like 'wamid.accept-%'`;
    }
  });

  it("derive a batch of messages without reading the inbound inbox whole", async () => {
    for (const n of [1, 2, 3]) {
      await acceptInboundBatched(db.sql, {
        channel: "whatsapp",
        sender: `+25078830010${n}`,
        provider: "whatsapp",
        providerMessageId: `wamid.scan-${n}`,
        messageType: "text",
        body: "hello",
        correlationId: `corr-scan-${n}`,
      });
    }
    let derived: readonly unknown[] = [];
    const read = await scanned("inbound_inbox", async (tx) => {
      derived = await tx`select * from public.process_inbound_inbox(100, null)`;
    });
    expect(derived).toHaveLength(3);
    expect(read).toBe(0);
    const [{ owed }] = await db.sql`select count(*)::int as owed from public.inbound_inbox
      where processed_at is null`;
    expect(owed).toBe(0);
  });

  it("apply a batch of statuses without reading the status inbox whole", async () => {
    await acceptDeliveryStatusesBatched(
      db.sql,
      [1, 2, 3].map((n) => ({
        channel: "whatsapp" as const,
        providerMessageId: `wamid.scan-status-${n}`,
        status: "delivered" as const,
      })),
    );
    let applied: readonly unknown[] = [];
    const read = await scanned("status_inbox", async (tx) => {
      applied = await tx`select * from public.process_status_inbox(500)`;
    });
    expect(applied).toHaveLength(3);
    expect(read).toBe(0);
    const [{ owed }] = await db.sql`select count(*)::int as owed from public.status_inbox
      where processed_at is null`;
    expect(owed).toBe(0);
  });
});
