/**
 * The status worker polls its inbox whether or not statuses come. A worker that polled an empty
 * inbox must still claim by key once the inbox fills: before, the claim ran from the plan cached
 * in its connection after five calls on the empty inbox (read the inbox whole and sort it), and
 * read every row of the inbox on each call until an ANALYZE happened to replace the plan.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let worker: postgres.Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`analyze public.status_inbox`;
  // The worker's own connection: its cached plans are its own.
  worker = postgres(db.url, { prepare: false, max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await worker?.end();
  await db?.close();
});

describe("the status worker's claim", () => {
  it("after polling an empty inbox, claims the owed statuses of a full one without reading it whole", async () => {
    for (let i = 0; i < 8; i++) {
      expect(await worker`select * from public.process_status_inbox(500)`).toHaveLength(0);
    }
    // The inbox fills (no ANALYZE since it was empty): a day of applied statuses, and 5 owed.
    await db
      .sql`insert into public.status_inbox (channel, provider_message_id, status, payload, processed_at)
      select 'whatsapp', 'wamid.applied-' || g, 'delivered', '{}'::jsonb, now() - interval '1 hour'
      from generate_series(1, 20000) g`;
    await db.sql`insert into public.status_inbox (channel, provider_message_id, status, payload)
      select 'whatsapp', 'wamid.owed-' || g, 'delivered',
             jsonb_build_object('channel', 'whatsapp', 'provider_message_id', 'wamid.owed-' || g,
                                'status', 'delivered')
      from generate_series(1, 5) g`;

    const { read, claimed } = await worker.begin(async (tx) => {
      const seqRead = async () =>
        Number(
          (await tx`select seq_tup_read from pg_stat_xact_user_tables
                    where relname = 'status_inbox'`)[0].seq_tup_read,
        );
      const before = await seqRead();
      const rows = await tx<{ payload: { provider_message_id: string } }[]>`
        select * from public.process_status_inbox(500)`;
      return { read: (await seqRead()) - before, claimed: rows };
    });
    expect(claimed.map((r) => r.payload.provider_message_id).sort()).toEqual(
      [1, 2, 3, 4, 5].map((g) => `wamid.owed-${g}`),
    );
    expect(read).toBe(0);
    const [{ owed }] = await db.sql<{ owed: number }[]>`
      select count(*)::int as owed from public.status_inbox where processed_at is null`;
    expect(owed).toBe(0);
  });
});
