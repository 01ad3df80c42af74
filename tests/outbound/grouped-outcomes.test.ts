/**
 * recordOutcomesGrouped: the outcomes of concurrent post-call notifications whose sends finished
 * in the same event-loop turn are written in one call of record_outbound_outcomes, and each
 * notification gets its own outcomes back; one notification whose write fails fails alone.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import {
  type OutcomeItem,
  recordOutcomes,
  recordOutcomesGrouped,
} from "../../supabase/functions/_shared/outbound/outcome.ts";

let db: TestDatabase;
let counted: Sql;
const statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  counted = postgres(db.url, {
    prepare: false,
    max: 2,
    onnotice: () => {},
    debug: (_c, query) => {
      if (!query.includes("pg_catalog.pg_type")) statements.push(query);
    },
  }) as unknown as Sql;
});
afterAll(async () => {
  await counted?.end();
  await db?.close();
});

type Channel = "whatsapp" | "sms";

async function claim(call: string, person: number): Promise<Record<Channel, string>> {
  const rows = await db.sql<{ channel: Channel; delivery_id: string }[]>`
    select channel, delivery_id from public.begin_post_call_notification(
      ${call}, ${`+25078${String(7_100_000 + person)}`}, 'The summary')`;
  return Object.fromEntries(rows.map((r) => [r.channel, r.delivery_id])) as Record<Channel, string>;
}

const sent = (id: string, providerId: string): OutcomeItem => ({
  deliveryId: id,
  result: { ok: true, provider: "meta", providerMessageId: providerId },
  body: `body of ${providerId}`,
});

const noPause = () => Promise.resolve();

describe("post-call outcomes grouped across concurrent notifications", () => {
  it("three notifications finishing together: one statement, each its own outcomes, every row and conversation updated", async () => {
    const calls = await Promise.all([1, 2, 3].map((n) => claim(`grouped-${n}`, n)));
    statements.length = 0;
    const results = await Promise.all(
      calls.map((c, n) =>
        recordOutcomesGrouped(counted, [
          sent(c.whatsapp, `wa-${n}`),
          {
            ...sent(c.sms, `sms-${n}`),
            result: {
              ok: false,
              provider: "mtn",
              error: { class: "retryable", code: "HTTP_503", message: "busy" },
            },
          },
        ], noPause)
      ),
    );
    expect(statements.filter((q) => q.includes("record_outbound_outcomes"))).toHaveLength(1);
    // Each notification's outcomes, in its own order: WhatsApp sent, SMS queued for a retry.
    for (const r of results) {
      expect(r.map((o) => o.status)).toEqual(["sent", "queued"]);
      expect(r[1].nextAttemptAt).toBeInstanceOf(Date);
    }
    const rows = await db.sql<{ call_id: string; channel: string; status: string; pid: string }[]>`
      select call_id, channel, status, coalesce(provider_message_id, '') as pid
      from public.message_delivery_log where call_id like 'grouped-%' order by call_id, channel`;
    expect(rows).toEqual([1, 2, 3].flatMap((n) => [
      { call_id: `grouped-${n}`, channel: "sms", status: "queued", pid: "" },
      { call_id: `grouped-${n}`, channel: "whatsapp", status: "sent", pid: `wa-${n - 1}` },
    ]));
    const marks = await db.sql<{ whatsapp_summary_sent: boolean }[]>`
      select s.whatsapp_summary_sent from public.omnichannel_sessions s
      where s.id in (select m.session_id from public.message_delivery_log m
                     where m.call_id like 'grouped-%')`;
    expect(marks.map((m) => m.whatsapp_summary_sent)).toEqual([true, true, true]);
  });

  it("a notification whose write fails is handled alone, as without grouping: the others in its group are recorded", async () => {
    const good = await Promise.all([4, 5].map((n) => claim(`grouped-${n}`, n)));
    const [alone] = await recordOutcomes(counted, [sent(crypto.randomUUID(), "x")], noPause);
    statements.length = 0;
    const [a, lost, b] = await Promise.all([
      recordOutcomesGrouped(
        counted,
        [sent(good[0].whatsapp, "wa-4"), sent(good[0].sms, "sms-4")],
        noPause,
      ),
      recordOutcomesGrouped(counted, [sent(crypto.randomUUID(), "wa-lost")], noPause),
      recordOutcomesGrouped(
        counted,
        [sent(good[1].whatsapp, "wa-5"), sent(good[1].sms, "sms-5")],
        noPause,
      ),
    ]);
    // The group failed as a whole (no such delivery), then each notification was written alone.
    const writes = statements.filter((q) => q.includes("record_outbound_outcomes"));
    expect(writes.length).toBeGreaterThanOrEqual(4);
    expect(a.map((o) => o.status)).toEqual(["sent", "sent"]);
    expect(b.map((o) => o.status)).toEqual(["sent", "sent"]);
    expect(lost).toEqual([alone]);
    const rows = await db.sql<{ status: string; pid: string }[]>`
      select status, provider_message_id as pid from public.message_delivery_log
      where call_id in ('grouped-4', 'grouped-5') order by pid`;
    expect(rows).toEqual([
      { status: "sent", pid: "sms-4" },
      { status: "sent", pid: "sms-5" },
      { status: "sent", pid: "wa-4" },
      { status: "sent", pid: "wa-5" },
    ]);
  });
});
