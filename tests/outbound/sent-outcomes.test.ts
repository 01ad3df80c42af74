/**
 * Outcomes that are all accepted sends are recorded set-wise by record_outbound_outcomes (a few
 * statements whatever their number); anything else row by row. Both must leave the same rows:
 * the same steps run once through each path, for people of their own, and the log rows, the
 * conversations' summary marks and each person's last active channel are compared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

type Channel = "whatsapp" | "sms";
type Path = "set" | "row";
interface Claim {
  channel: Channel;
  delivery_id: string;
}

const phoneOf = (path: Path, person: number) =>
  `+25078${path === "set" ? "4" : "5"}${String(person).padStart(6, "0")}`;

async function claimsFor(path: Path, person: number): Promise<Record<Channel, string>> {
  const rows = await db.sql<Claim[]>`
    select channel, delivery_id from public.begin_post_call_notification(
      ${`sent-${path}-${person}`}, ${phoneOf(path, person)}, 'The summary')`;
  return Object.fromEntries(rows.map((r) => [r.channel, r.delivery_id])) as Record<Channel, string>;
}

function outcome(path: Path, person: number, channel: Channel, id: string) {
  return {
    delivery_id: id,
    sent: true,
    provider: channel === "whatsapp" ? "meta" : "mtn",
    provider_message_id: `${path}-${person}-${channel}`,
    body: `Hello ${person} on ${channel}`,
    message_type: channel === "whatsapp" ? "template" : null,
    metadata: person === 1 ? { template: "call_summary" } : null,
    sender_key: `${channel}:bench`,
  };
}

interface LogRow {
  channel: Channel;
  status: string;
  provider_message_id: string | null;
  metadata: Record<string, unknown>;
  has_sent_at: boolean;
  [column: string]: unknown;
}
interface PersonState {
  last_active_channel: string | null;
  whatsapp_summary_sent: boolean;
  sms_summary_sent: boolean;
  wa_at: boolean;
  sms_at: boolean;
}

/** Runs `steps` (each a list of [person, channel] sent) through one path; returns the state. */
async function run(path: Path, steps: [number, Channel][][]) {
  const people = [1, 2, 3, 4];
  const claims = new Map<number, Record<Channel, string>>();
  for (const p of people) claims.set(p, await claimsFor(path, p));
  // Person 3 was last active on WhatsApp before this call.
  await db.sql`update public.profiles set last_active_channel = 'whatsapp'
    where phone_number = ${phoneOf(path, 3)}`;
  for (const step of steps) {
    const items = step.map(([p, ch]) => outcome(path, p, ch, claims.get(p)![ch]));
    if (path === "set") {
      const rows = await db.sql<{ ordinal: number; delivery_id: string; status: string }[]>`
        select ordinal, delivery_id, status from public.record_outbound_outcomes(${
        db.sql.json(items)
      })
        order by ordinal`;
      expect(rows.map((r) => [r.ordinal, r.delivery_id, r.status])).toEqual(
        items.map((it, i) => [i + 1, it.delivery_id, "sent"]),
      );
    } else {
      for (const it of items) {
        await db.sql`select * from public.record_outbound_outcome(
          ${it.delivery_id}::uuid, true, ${it.provider}, ${it.provider_message_id}, ${it.body},
          ${it.message_type}, null, null, null, false, null,
          ${it.metadata ? db.sql.json(it.metadata) : null}::jsonb, ${it.sender_key})`;
      }
    }
  }
  const state: (PersonState & { person: number; rows: LogRow[] })[] = [];
  for (const p of people) {
    const rows = await db.sql<LogRow[]>`
      select m.channel, m.status, m.provider, m.provider_message_id, m.body, m.message_type,
             m.metadata, m.sender_key, m.error_code, m.error_class, m.error_message, m.attempts,
             m.leased_until is not null as leased, m.next_attempt_at, m.sent_at is not null as has_sent_at
      from public.message_delivery_log m
      where m.call_id = ${`sent-${path}-${p}`} order by m.channel`;
    const [person] = await db.sql<PersonState[]>`
      select pr.last_active_channel, s.whatsapp_summary_sent, s.sms_summary_sent,
             s.whatsapp_summary_sent_at is not null as wa_at, s.sms_summary_sent_at is not null as sms_at
      from public.profiles pr join public.omnichannel_sessions s on s.profile_id = pr.id
      where pr.phone_number = ${phoneOf(path, p)} and s.status <> 'closed'`;
    state.push({
      person: p,
      ...person,
      rows: rows.map((r) => ({
        ...r,
        provider_message_id: r.provider_message_id?.replace(`${path}-`, "") ?? null,
      })),
    });
  }
  return state;
}

describe("sent outcomes, set-wise", () => {
  it("leave the same rows, marks and last active channels as recorded one at a time", async () => {
    const steps: [number, Channel][][] = [
      // A batch across people (dispatch), then each call's other channel; person 3's SMS goes
      // while its WhatsApp message never does; person 4's two go together, as post-call's do.
      [[1, "whatsapp"], [2, "sms"], [4, "whatsapp"], [4, "sms"]],
      [[1, "sms"], [2, "whatsapp"], [3, "sms"]],
    ];
    const set = await run("set", steps);
    const row = await run("row", steps);
    expect(set).toEqual(row);
    // What both paths agree on, spelled out: WhatsApp carried person 1's call, so their SMS
    // leaves WhatsApp as the last active channel; person 3's WhatsApp never went, so SMS is.
    expect(set.map((s) => s.last_active_channel)).toEqual([
      "whatsapp",
      "whatsapp",
      "sms",
      "whatsapp",
    ]);
    expect(set[0].rows.map((r) => [r.channel, r.status, r.has_sent_at])).toEqual([
      ["sms", "sent", true],
      ["whatsapp", "sent", true],
    ]);
    expect(set[0].rows[1].metadata).toEqual({ template: "call_summary" });
    expect(set[2]).toMatchObject({ whatsapp_summary_sent: false, sms_summary_sent: true });
    expect(set[2].rows.map((r) => [r.channel, r.status])).toEqual([
      ["sms", "sent"],
      ["whatsapp", "queued"],
    ]);
  });

  it("a list naming a delivery that does not exist is refused whole, and the others stay queued", async () => {
    const claims = await claimsFor("set", 9);
    const missing = "00000000-0000-4000-8000-000000000009";
    const attempt = db.sql`select * from public.record_outbound_outcomes(${
      db.sql.json([
        outcome("set", 9, "whatsapp", claims.whatsapp),
        outcome("set", 9, "sms", missing),
      ])
    })`;
    await expect(attempt).rejects.toThrow(`delivery ${missing} not found`);
    const [row] = await db.sql`select status from public.message_delivery_log
      where id = ${claims.whatsapp}`;
    expect(row.status).toBe("queued");
  });

  it("a delivery a status callback already moved on stays where it got to", async () => {
    const claims = await claimsFor("set", 10);
    await db.sql`update public.message_delivery_log set status = 'delivered'
      where id = ${claims.whatsapp}`;
    const rows = await db.sql<{ status: string }[]>`
      select status from public.record_outbound_outcomes(${
      db.sql.json([outcome("set", 10, "whatsapp", claims.whatsapp)])
    })`;
    expect(rows.map((r) => r.status)).toEqual(["delivered"]);
  });
});
