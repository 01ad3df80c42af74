import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
let sql: Sql;
let seq = 0;
const nextPhone = () => `+25079900${String(++seq).padStart(4, "0")}`;
const nextPsid = () => `psid-${Date.now()}-${++seq}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

interface Inbound {
  channel: string;
  sender: string;
  sender_kind?: string;
  provider_message_id: string;
  body: string;
}

async function record(...messages: Inbound[]) {
  const rows = await sql`
    select * from public.record_inbound_messages(p_messages => ${
    sql.json(messages.map((m) => ({ provider: "test", correlation_id: "c", ...m })) as never)
  }) order by ordinal`;
  return rows;
}

const mid = () => `mid.${++seq}.${Math.random().toString(36).slice(2)}`;

async function personOf(profileId: string) {
  const [p] = await sql`select * from public.profiles where id = ${profileId}`;
  const identities = await sql`
    select kind, value from public.profile_identities where profile_id = ${profileId} order by kind`;
  const live = await sql`
    select id, channels_seen from public.omnichannel_sessions
    where profile_id = ${profileId} and status <> 'closed'`;
  const messages = await sql`
    select m.channel, m.body, m.session_id from public.message_delivery_log m
    where m.profile_id = ${profileId} order by m.created_at, m.body`;
  return { profile: p, identities, live, messages };
}

describe("identities: one person on several channels", () => {
  it("a Messenger sender gets a profile with no phone number, and the same one on every message", async () => {
    const psid = nextPsid();
    const [first] = await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "hi",
    });
    const [second] = await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "again",
    });
    expect(second.profile_id).toBe(first.profile_id);
    expect(second.session_id).toBe(first.session_id);
    const person = await personOf(first.profile_id);
    expect(person.profile.phone_number).toBeNull();
    expect(person.profile.last_active_channel).toBe("messenger");
    expect(person.identities).toEqual([{ kind: "messenger", value: psid }]);
    expect(person.messages.map((m) => m.body)).toEqual(["hi", "again"]);
  });

  it("20 concurrent first messages from one new PSID make one profile and one session", async () => {
    const psid = nextPsid();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        record({
          channel: "instagram",
          sender: psid,
          sender_kind: "instagram",
          provider_message_id: mid(),
          body: `m${i}`,
        })),
    );
    expect(new Set(results.map(([r]) => r.profile_id)).size).toBe(1);
    expect(new Set(results.map(([r]) => r.session_id)).size).toBe(1);
    const count = await sql`
      select count(*)::int as n from public.profiles p
      where not exists (select 1 from public.profile_identities i where i.profile_id = p.id)
        and p.phone_number is null and p.merged_into is null and p.last_active_channel = 'instagram'`;
    expect(count[0].n).toBe(0); // no orphan profile left behind by the losing racers
  });

  it("Messenger, then the phone shared, then an SMS: one profile, one live session, three messages", async () => {
    const psid = nextPsid();
    const phone = nextPhone();
    const [m] = await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "1 messenger",
    });
    const [linked] =
      await sql`select public.link_identity(${m.profile_id}, 'phone', ${phone}) as id`;
    expect(linked.id).toBe(m.profile_id);
    await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "2 messenger",
    });
    const [s] = await record({
      channel: "sms",
      sender: phone,
      provider_message_id: mid(),
      body: "3 sms",
    });
    expect(s.profile_id).toBe(m.profile_id);
    expect(s.session_id).toBe(m.session_id);
    const person = await personOf(m.profile_id);
    expect(person.profile.phone_number).toBe(phone);
    expect(person.live).toHaveLength(1);
    expect(person.messages.map((x) => x.body)).toEqual(["1 messenger", "2 messenger", "3 sms"]);
    expect(new Set(person.messages.map((x) => x.session_id))).toEqual(new Set([m.session_id]));
  });

  it("sharing a phone that already texted merges the two people into the phone's profile", async () => {
    const psid = nextPsid();
    const phone = nextPhone();
    const [s] = await record({
      channel: "sms",
      sender: phone,
      provider_message_id: mid(),
      body: "a sms",
    });
    await sql`update public.profiles set allows_sms = false where id = ${s.profile_id}`; // said STOP
    const [m] = await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "b messenger",
    });
    expect(m.profile_id).not.toBe(s.profile_id);

    const [linked] =
      await sql`select public.link_identity(${m.profile_id}, 'phone', ${phone}) as id`;
    expect(linked.id).toBe(s.profile_id);

    const person = await personOf(s.profile_id);
    expect(person.identities).toEqual([{ kind: "messenger", value: psid }]);
    expect(person.live).toHaveLength(1);
    expect([...person.live[0].channels_seen]).toEqual(["sms", "messenger"]);
    expect(person.messages.map((x) => x.body)).toEqual(["a sms", "b messenger"]);
    expect(new Set(person.messages.map((x) => x.session_id))).toEqual(new Set([person.live[0].id]));
    expect(person.profile.allows_sms).toBe(false); // an opt-out survives the merge

    const [tomb] =
      await sql`select merged_into, phone_number from public.profiles where id = ${m.profile_id}`;
    expect(tomb).toEqual({ merged_into: s.profile_id, phone_number: null });
    const [closed] = await sql`
      select status from public.omnichannel_sessions where id = ${m.session_id}`;
    expect(closed.status).toBe("closed");

    // What was resolved to the merged-away profile follows it to the survivor.
    const [again] = await record({
      channel: "messenger",
      sender: psid,
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "c messenger",
    });
    expect(again.profile_id).toBe(s.profile_id);
    expect(again.session_id).toBe(person.live[0].id);
    const [viaOld] = await sql`
      select session_id, profile_id from public.get_or_create_session_for_profile(${m.profile_id}, 'messenger')`;
    expect(viaOld).toEqual({ session_id: person.live[0].id, profile_id: s.profile_id });
  });

  it("the phone shared while the first SMS from it is being recorded: one person either way (10 races)", async () => {
    for (let i = 0; i < 10; i++) {
      const psid = nextPsid();
      const phone = nextPhone();
      const [m] = await record({
        channel: "messenger",
        sender: psid,
        sender_kind: "messenger",
        provider_message_id: mid(),
        body: "1 messenger",
      });
      const [, [s]] = await Promise.all([
        sql`select public.link_identity(${m.profile_id}, 'phone', ${phone}) as id`,
        record({ channel: "sms", sender: phone, provider_message_id: mid(), body: "2 sms" }),
      ]);
      const holders = await sql`
        select id from public.profiles where phone_number = ${phone} and merged_into is null`;
      expect(holders).toHaveLength(1);
      const survivor = holders[0].id;
      expect([m.profile_id, s.profile_id]).toContain(survivor);
      const person = await personOf(survivor);
      expect(person.identities).toEqual([{ kind: "messenger", value: psid }]);
      expect(person.live).toHaveLength(1);
      expect(person.messages.map((x) => x.body)).toEqual(["1 messenger", "2 sms"]);
      expect(new Set(person.messages.map((x) => x.session_id))).toEqual(
        new Set([person.live[0].id]),
      );
    }
  });

  it("two profiles linking the same email at once end as one person, both answered its id (10 races)", async () => {
    for (let i = 0; i < 10; i++) {
      const [a] = await record({
        channel: "messenger",
        sender: nextPsid(),
        sender_kind: "messenger",
        provider_message_id: mid(),
        body: "a",
      });
      const [b] = await record({
        channel: "instagram",
        sender: nextPsid(),
        sender_kind: "instagram",
        provider_message_id: mid(),
        body: "b",
      });
      const email = `Ada.${seq}@Example.com`;
      const [[x], [y]] = await Promise.all([
        sql`select public.link_identity(${a.profile_id}, 'email', ${email}) as id`,
        sql`select public.link_identity(${b.profile_id}, 'email', ${email}) as id`,
      ]);
      // The first link stands; the second merges into the profile holding the address.
      expect(x.id).toBe(y.id);
      const [holder] = await sql`
        select profile_id, (select merged_into from public.profiles where id = profile_id) as merged
        from public.profile_identities where kind = 'email' and value = ${email.toLowerCase()}`;
      expect(holder).toEqual({ profile_id: x.id, merged: null });
      const person = await personOf(x.id);
      expect(person.identities.map((i) => i.kind)).toEqual(["email", "instagram", "messenger"]);
      expect(person.live).toHaveLength(1);
      expect(person.messages.map((m) => m.body).sort()).toEqual(["a", "b"]);
      const [addr] = await sql`select public.profile_identity(${a.profile_id}, 'email') as v`;
      expect(addr.v).toBe(email.toLowerCase());
    }
  });

  it("refuses to merge two people with different phone numbers, changing nothing", async () => {
    const [p] = await record({
      channel: "sms",
      sender: nextPhone(),
      provider_message_id: mid(),
      body: "p",
    });
    const [m] = await record({
      channel: "messenger",
      sender: nextPsid(),
      sender_kind: "messenger",
      provider_message_id: mid(),
      body: "m",
    });
    const other = nextPhone();
    await sql`select public.link_identity(${m.profile_id}, 'phone', ${other})`;
    const [phoneOfP] =
      await sql`select phone_number from public.profiles where id = ${p.profile_id}`;
    await expect(
      sql`select public.link_identity(${m.profile_id}, 'phone', ${phoneOfP.phone_number})`,
    ).rejects.toMatchObject({ code: "23505" });
    const rows = await sql`
      select id, merged_into from public.profiles where id in (${p.profile_id}, ${m.profile_id})`;
    expect(rows.every((r) => r.merged_into === null)).toBe(true);
  });

  it("rejects an unknown identity kind or an empty value with a clear error", async () => {
    await expect(sql`select public.resolve_profile('fax', '123')`).rejects.toThrow(
      /unknown identity kind fax/,
    );
    await expect(sql`select public.resolve_profile('email', '  ')`).rejects.toThrow(
      /needs a value/,
    );
  });
});

describe("message_templates", () => {
  it("holds one template per channel, name and locale", async () => {
    await sql`
      insert into public.message_templates (channel, name, locale, subject, body_text)
      values ('email', 'welcome', 'en', 'Hi {{name}}', 'Hello {{name}}')`;
    await expect(sql`
      insert into public.message_templates (channel, name, locale) values ('email', 'welcome', 'en')`)
      .rejects.toMatchObject({ code: "23505" });
    await expect(sql`
      insert into public.message_templates (channel, name, status) values ('whatsapp', 'x', 'approvedish')`)
      .rejects.toMatchObject({ code: "23514" });
  });
});
