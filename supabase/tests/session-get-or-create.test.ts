import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
let sql: Sql;
let phoneSeq = 0;
// A fresh E.164 number per test keeps the tests independent inside one database.
const nextPhone = () => `+25078800${String(++phoneSeq).padStart(4, "0")}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

function getOrCreate(
  phone: string,
  channel: string,
  extra: { callId?: string; context?: object } = {},
) {
  return sql`
    select * from public.get_or_create_omnichannel_session(
      p_phone_number => ${phone}, p_channel => ${channel},
      p_call_id => ${extra.callId ?? null}, p_context => ${
    sql.json((extra.context ?? {}) as never)
  })`;
}

describe("get_or_create_omnichannel_session", () => {
  it("returns the same live session on every call, merging context and channels", async () => {
    const phone = nextPhone();
    const [first] = await getOrCreate(phone, "voice", {
      callId: "call-1",
      context: { plan: "basic" },
    });
    const [second] = await getOrCreate(phone, "whatsapp", { context: { price: 20 } });
    const [third] = await getOrCreate(phone, "whatsapp");

    expect(first.is_new).toBe(true);
    expect(second.is_new).toBe(false);
    expect(third.is_new).toBe(false);
    expect(new Set([first.session_id, second.session_id, third.session_id]).size).toBe(1);
    expect(third.context).toEqual({ plan: "basic", price: 20 });
    expect(third.channels_seen).toEqual(["voice", "whatsapp"]);
    expect(third.last_channel).toBe("whatsapp");
    expect(third.call_id).toBe("call-1");
    expect(third.has_whatsapp).toBeNull();
    expect(third.allows_sms).toBe(true);

    const profiles = await sql`
      select last_active_channel from public.profiles where phone_number = ${phone}`;
    expect(profiles).toEqual([{ last_active_channel: "whatsapp" }]);
  });

  it("yields exactly one live session under 20 concurrent callers", async () => {
    const phone = nextPhone();
    const channels = ["voice", "whatsapp", "sms", "messenger"];
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => getOrCreate(phone, channels[i % 4], { context: { [`k${i}`]: i } }),
      ),
    );

    const ids = new Set(results.map(([row]) => row.session_id));
    expect(ids.size).toBe(1);
    expect(results.filter(([row]) => row.is_new)).toHaveLength(1);

    const sessions = await sql`
      select s.status, s.context, s.channels_seen from public.omnichannel_sessions s
      join public.profiles p on p.id = s.profile_id where p.phone_number = ${phone}`;
    expect(sessions).toHaveLength(1);
    expect(Object.keys(sessions[0].context)).toHaveLength(20);
    expect([...sessions[0].channels_seen].sort()).toEqual([...channels].sort());
  });

  it("extends the expiry on activity", async () => {
    const phone = nextPhone();
    const [created] = await getOrCreate(phone, "sms");
    await sql`
      update public.omnichannel_sessions set expires_at = now() + interval '1 hour'
      where id = ${created.session_id}`;

    const [touched] = await getOrCreate(phone, "sms");
    expect(touched.session_id).toBe(created.session_id);
    const hoursLeft = (touched.expires_at.getTime() - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24.01);
  });

  it("closes an expired session and opens a new one", async () => {
    const phone = nextPhone();
    const [old] = await getOrCreate(phone, "voice", { context: { stale: true } });
    await sql`
      update public.omnichannel_sessions set expires_at = now() - interval '1 minute'
      where id = ${old.session_id}`;

    const [fresh] = await getOrCreate(phone, "whatsapp");
    expect(fresh.session_id).not.toBe(old.session_id);
    expect(fresh.is_new).toBe(true);
    expect(fresh.context).toEqual({});

    const [closed] = await sql`
      select status, closed_at from public.omnichannel_sessions where id = ${old.session_id}`;
    expect(closed.status).toBe("closed");
    expect(closed.closed_at).toBeInstanceOf(Date);
  });

  it("sets the status when asked and refuses to close through get-or-create", async () => {
    const phone = nextPhone();
    const [row] = await sql`
      select * from public.get_or_create_omnichannel_session(${phone}, 'voice', p_status => 'follow_up')`;
    expect(row.status).toBe("follow_up");
    await expect(
      sql`select * from public.get_or_create_omnichannel_session(${phone}, 'voice', p_status => 'closed')`,
    ).rejects.toMatchObject({ code: "22023" });
  });

  it("rejects a phone number that is not E.164", async () => {
    await expect(getOrCreate("0788123456", "sms")).rejects.toMatchObject({ code: "23514" });
  });
});
