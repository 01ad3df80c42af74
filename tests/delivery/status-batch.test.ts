/**
 * A batch of delivery statuses (record_delivery_statuses, what the status worker applies) leaves
 * every message exactly as applying its statuses one at a time in order (record_delivery_status)
 * does — forward only, an unknown send resolved, failures with their errors and fallback, our own
 * row id echoed back, statuses for messages we never sent — and applies the common ones (sent,
 * delivered, read, one per message) together instead of one function call each.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

const PER_ROW =
  "public.record_delivery_status(text, text, text, text, text, text, boolean, jsonb, uuid)";

type Key = "sent" | "unknown" | "queued" | "read" | "dup" | "fail" | "echo" | "sms" | "failed";

/** One person's outbound messages in every state a callback can find them in; ids by key. */
async function seed(set: string, phone: string): Promise<Record<Key, string>> {
  const [p] = await db.sql`insert into public.profiles (phone_number, has_whatsapp)
    values (${phone}, true) returning id`;
  const row = async (key: Key, status: string, opts: { channel?: string; pmid?: boolean } = {}) => {
    const [r] = await db.sql`insert into public.message_delivery_log
      (profile_id, channel, direction, status, recipient, body, provider, provider_message_id,
       error_code, next_attempt_at, metadata)
      values (${p.id}, ${opts.channel ?? "whatsapp"}, 'outbound', ${status}, ${phone}, ${key},
        ${opts.channel === "sms" ? "twilio" : "whatsapp"},
        ${opts.pmid === false ? null : `${set}-${key}`},
        ${status === "unknown" ? "TIMEOUT" : status === "failed" ? "131000" : null},
        ${status === "unknown" ? new Date(Date.now() + 60_000) : null},
        ${db.sql.json({ seeded: key })})
      returning id`;
    return [key, r.id] as const;
  };
  return Object.fromEntries([
    await row("sent", "sent"),
    await row("unknown", "unknown"),
    await row("queued", "queued"),
    await row("read", "read"),
    await row("dup", "sent"),
    await row("fail", "sent"),
    await row("echo", "sent", { pmid: false }),
    await row("sms", "sent", { channel: "sms" }),
    await row("failed", "failed"),
  ]) as Record<Key, string>;
}

/** A status as record_delivery_statuses takes it (outbound/delivery-status.ts, statusJson). */
type StatusJson = {
  channel: string;
  provider_message_id: string;
  status: string;
  metadata: Record<string, string | Record<string, string>>;
  delivery_id?: string;
  error_code?: string;
  error_message?: string;
  error_class?: string;
  not_on_channel?: boolean;
};

/** Every kind of status a provider sends, against one seeded set. */
function batch(set: string, ids: Record<Key, string>): StatusJson[] {
  const s = (
    key: string,
    status: string,
    more: Partial<StatusJson> = {},
  ): StatusJson => ({
    channel: "whatsapp",
    provider_message_id: `${set}-${key}`,
    status,
    metadata: { callback: `${key}:${status}` },
    ...more,
  });
  return [
    s("sent", "delivered", { metadata: { pricing: { category: "service" } } }),
    s("unknown", "delivered"),
    s("queued", "sent"),
    s("read", "delivered"), // backwards: stays read
    s("dup", "delivered"),
    s("dup", "read"),
    s("fail", "failed", {
      error_code: "131026",
      error_message: "Message undeliverable",
      error_class: "permanent",
      not_on_channel: true,
    }),
    s("late", "delivered", { delivery_id: ids.echo }), // the provider id we never learned
    s("nobody", "read"), // a message we never sent
    s("sms", "delivered", { channel: "sms" }),
    s("failed", "delivered"), // backwards from failed
    s("stranger", "sent", { delivery_id: "00000000-0000-4000-8000-000000000000" }),
  ];
}

/** What a person would see of each message, and of the profile, keyed the same in both sets. */
async function state(set: string, phone: string, ids: Record<Key, string>) {
  const rows = await db.sql`select m.id, m.status, m.error_code, m.error_message, m.error_class,
      m.next_attempt_at is null as no_retry, m.sent_at is not null as sent_at,
      m.delivered_at is not null as delivered_at, m.read_at is not null as read_at,
      m.failed_at is not null as failed_at, m.metadata,
      replace(m.provider_message_id, ${`${set}-`}, '') as pmid
    from public.message_delivery_log m where m.id = any(${Object.values(ids)}::uuid[])`;
  const key = Object.fromEntries(Object.entries(ids).map(([k, id]) => [id, k]));
  const [profile] = await db.sql`select has_whatsapp from public.profiles
    where phone_number = ${phone}`;
  const [fallbacks] = await db.sql`select count(*)::int as n from public.message_delivery_log
    where fallback_of = any(${Object.values(ids)}::uuid[])`;
  return {
    rows: Object.fromEntries(rows.map(({ id, ...r }) => [key[id], r])),
    hasWhatsapp: profile.has_whatsapp,
    fallbacks: fallbacks.n,
  };
}

const outcomes = (
  rows: readonly Record<string, unknown>[],
  ids: Record<Key, string>,
) => {
  const key = Object.fromEntries(Object.entries(ids).map(([k, id]) => [id, k]));
  return [...rows].sort((a, b) => Number(a.ordinal) - Number(b.ordinal)).map((r) => ({
    ordinal: r.ordinal,
    matched: r.matched,
    row: r.delivery_id === null ? null : key[String(r.delivery_id)],
    previous: r.previous_status,
    current: r.current_status,
  }));
};

describe("record_delivery_statuses: a batch of delivery statuses", () => {
  it("leaves every message and outcome as applying the statuses one at a time does", async () => {
    const a = await seed("batch", "+250788300001");
    const b = await seed("single", "+250788300002");

    const together = await db.sql`select * from public.record_delivery_statuses(
      ${db.sql.json(batch("batch", a))})`;
    const oneByOne = [];
    for (const [i, u] of batch("single", b).entries()) {
      const [r] = await db.sql`select ${
        i + 1
      }::int as ordinal, * from public.record_delivery_status(
        ${u.channel}, ${u.provider_message_id}, ${u.status}, ${u.error_code ?? null},
        ${u.error_message ?? null}, ${u.error_class ?? null}, ${u.not_on_channel ?? false},
        ${db.sql.json(u.metadata)}, ${u.delivery_id ?? null}::uuid)`;
      oneByOne.push(r);
    }

    expect(outcomes(together, a)).toEqual(outcomes(oneByOne, b));
    const after = await state("batch", "+250788300001", a);
    expect(after).toEqual(await state("single", "+250788300002", b));
    // And what that is, so the two cannot agree on nothing happening.
    expect(after.rows.sent).toMatchObject({
      status: "delivered",
      delivered_at: true,
      metadata: { seeded: "sent", pricing: { category: "service" } },
    });
    expect(after.rows.unknown).toMatchObject({
      status: "delivered",
      error_code: null,
      no_retry: true,
    });
    expect(after.rows.read.status).toBe("read");
    expect(after.rows.dup).toMatchObject({ status: "read", delivered_at: true, read_at: true });
    expect(after.rows.fail).toMatchObject({ status: "failed", error_code: "131026" });
    expect(after.rows.echo).toMatchObject({ status: "delivered", pmid: "late" });
    expect(after.rows.failed.status).toBe("failed");
    expect(after.hasWhatsapp).toBe(false);
    expect(outcomes(together, a).filter((o) => !o.matched).map((o) => o.ordinal)).toEqual([9, 12]);
  });

  it("applies sent, delivered and read statuses, one per message, without a call each", async () => {
    const ids = await seed("fast", "+250788300003");
    const counted = await db.sql.begin(async (tx) => {
      await tx`set local track_functions = 'pl'`;
      const rows = await tx`select * from public.record_delivery_statuses(${
        tx.json([
          { channel: "whatsapp", provider_message_id: "fast-sent", status: "read" },
          { channel: "whatsapp", provider_message_id: "fast-queued", status: "sent" },
          { channel: "whatsapp", provider_message_id: "fast-dup", status: "delivered" },
          { channel: "sms", provider_message_id: "fast-sms", status: "delivered" },
          { channel: "whatsapp", provider_message_id: "fast-nobody", status: "read" },
        ])
      })`;
      const [calls] = await tx`select coalesce(
        pg_stat_get_xact_function_calls(${PER_ROW}::regprocedure), 0)::int as n`;
      return { rows, calls: calls.n };
    });
    expect(counted.calls).toBe(0);
    expect(outcomes(counted.rows, ids).map((o) => [o.row, o.previous, o.current])).toEqual([
      ["sent", "sent", "read"],
      ["queued", "queued", "sent"],
      ["dup", "sent", "delivered"],
      ["sms", "sent", "delivered"],
      [null, null, null],
    ]);
  });

  it("refuses the whole batch for one status it does not know, and changes nothing", async () => {
    const ids = await seed("bad", "+250788300004");
    await expect(db.sql`select * from public.record_delivery_statuses(${
      db.sql.json([
        { channel: "whatsapp", provider_message_id: "bad-sent", status: "delivered" },
        { channel: "whatsapp", provider_message_id: "bad-queued", status: "played" },
      ])
    })`).rejects.toThrow("a delivery status is sent, delivered, read or failed, not played");
    const [row] = await db.sql`select status from public.message_delivery_log
      where id = ${ids.sent}`;
    expect(row.status).toBe("sent");
  });

  it.runIf(process.env.DATABASE_URL)(
    "two batches naming the same messages in opposite orders both finish",
    async () => {
      const people = await Promise.all(
        [0, 1, 2, 3].map((i) => seed(`race${i}`, `+25078830010${i}`)),
      );
      const statuses = people.flatMap((_, i) =>
        (["sent", "dup", "fail", "queued"] as const).map((k) => ({
          channel: "whatsapp",
          provider_message_id: `race${i}-${k}`,
          status: k === "fail" ? "failed" : "delivered",
        }))
      );
      const [x, y] = await Promise.all([
        db.sql`select * from public.record_delivery_statuses(${db.sql.json(statuses)})`,
        db.sql`select * from public.record_delivery_statuses(${
          db.sql.json([...statuses].reverse())
        })`,
      ]);
      expect(x.length + y.length).toBe(32);
      expect([...x, ...y].every((r) => r.matched)).toBe(true);
    },
  );
});
