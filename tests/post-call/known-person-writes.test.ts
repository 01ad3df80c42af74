/**
 * A known person's next call (or message) writes only what changes: their profile row not at
 * all when nothing about them is new, their live conversation once. Before, resolve_profile
 * rewrote the profile row on every call (`on conflict … do update` to keep a display name it
 * already had) and get_or_create_session_for_profile tried to insert a second live conversation
 * before updating the one there (the attempt fires the insert triggers and the unique check).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  // Every row write attempted on profiles and sessions, in order (BEFORE triggers fire for an
  // insert that the unique index then refuses, too).
  await db.sql.unsafe(`
    create table public.test_person_writes (seq bigserial primary key, tbl text, op text);
    create function public.test_person_writes() returns trigger language plpgsql as $$
    begin
      insert into public.test_person_writes (tbl, op) values (tg_table_name, tg_op);
      return new;
    end $$;
    create trigger test_person_writes before insert or update on public.profiles
      for each row execute function public.test_person_writes();
    create trigger test_person_writes before insert or update on public.omnichannel_sessions
      for each row execute function public.test_person_writes();`);
});
afterAll(() => db?.close());

async function writesOf(run: () => Promise<unknown>): Promise<string[]> {
  await db.sql`delete from public.test_person_writes`;
  await run();
  const rows = await db.sql`select tbl, op from public.test_person_writes order by seq`;
  return rows.map((r) => `${r.op} ${r.tbl}`);
}

type Session = { session_id: string; is_new: boolean };
const session = (phone: string, name: string | null): Promise<Session[]> =>
  db.sql<Session[]>`select s.session_id, s.is_new from public.get_or_create_session_for_profile(
    public.resolve_profile('phone', ${phone}, 'whatsapp', ${name}), 'whatsapp', 'call-1') s`;

describe("a known person's next call", () => {
  it("leaves their profile alone and updates their live conversation once", async () => {
    let first: Session[] = [];
    expect(await writesOf(async () => (first = await session("+250788123456", "Ama")))).toEqual([
      "INSERT profiles",
      "INSERT omnichannel_sessions",
    ]);
    expect(first[0].is_new).toBe(true);

    let next: Session[] = [];
    expect(await writesOf(async () => (next = await session("+250788123456", "Ama")))).toEqual([
      "UPDATE omnichannel_sessions",
    ]);
    expect(next[0]).toEqual({ session_id: first[0].session_id, is_new: false });
  });

  it("still names a person who had no name, once, and opens a conversation when none is live", async () => {
    await session("+250788123457", null);
    expect(await writesOf(() => session("+250788123457", "Kofi"))).toEqual([
      "UPDATE profiles",
      "UPDATE omnichannel_sessions",
    ]);
    const [p] = await db.sql`select display_name from public.profiles
      where phone_number = '+250788123457'`;
    expect(p.display_name).toBe("Kofi");

    await db.sql`update public.omnichannel_sessions set status = 'closed', closed_at = now()
      where profile_id = (select id from public.profiles where phone_number = '+250788123457')`;
    const [again] = await session("+250788123457", "Kofi");
    expect(again.is_new).toBe(true);
  });
});

type Claim = { channel: string; delivery_id: string; session_id: string };
const begin = (callId: string, phone: string): Promise<Claim[]> =>
  db.sql<Claim[]>`select c.channel, c.delivery_id, c.session_id
    from public.begin_post_call_notification(${callId}, ${phone}, 'Your summary', ${callId},
                                            120, array['whatsapp', 'sms']) c`;
const bothSent = (claims: Claim[]) =>
  db.sql`select * from public.record_outbound_outcomes(${
    db.sql.json(claims.map((c) => ({
      delivery_id: c.delivery_id,
      sent: true,
      provider: c.channel === "whatsapp" ? "meta" : "twilio",
      provider_message_id: `${c.channel}-${c.delivery_id}`,
    })))
  })`;

describe("a new person's post-call claim", () => {
  it("writes their profile and conversation once each, the conversation with its tenant", async () => {
    const phone = "+250788123470";
    // Before: the conversation was created without a tenant and the delivery log's tenant
    // trigger updated it on the first row ("UPDATE omnichannel_sessions" after the insert).
    expect(await writesOf(() => begin("call-new", phone))).toEqual([
      "INSERT profiles",
      "INSERT omnichannel_sessions",
    ]);
    const [s] = await db.sql`select s.tenant_id, (select array_agg(distinct m.tenant_id)
        from public.message_delivery_log m where m.session_id = s.id) as row_tenants
      from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
      where p.phone_number = ${phone}`;
    const defaultTenant = "00000000-0000-0000-0000-000000000001";
    expect(s).toEqual({ tenant_id: defaultTenant, row_tenants: [defaultTenant] });
  });
});

describe("a call's post-call claim on the delivery log", () => {
  it("reads the call's earlier rows once and writes its two new rows in one statement", async () => {
    // Before: each channel read its latest row, then counted its rows, then inserted its own row
    // (4 reads and 2 insert statements for a new call), and every insert statement prepares the
    // log's constraints, trigger conditions and 15 indexes again.
    await db.sql.unsafe(`
      create table if not exists public.test_log_inserts (seq bigserial primary key);
      create or replace function public.test_log_inserts() returns trigger language plpgsql as $$
      begin
        insert into public.test_log_inserts default values;
        return null;
      end $$;
      drop trigger if exists test_log_inserts on public.message_delivery_log;
      create trigger test_log_inserts after insert on public.message_delivery_log
        for each statement execute function public.test_log_inserts();`);
    try {
      const phone = "+250788123480";
      const counted = await db.sql.begin(async (tx) => {
        await tx`delete from public.test_log_inserts`;
        const scans = () =>
          tx<
            { n: number }[]
          >`select idx_scan::int + seq_scan::int as n from pg_stat_xact_user_tables
            where relname = 'message_delivery_log'`.then((r) => r[0].n);
        const before = await scans();
        const claims = await tx<Claim[]>`select c.channel, c.delivery_id, c.session_id
          from public.begin_post_call_notification(${"call-one-insert"}, ${phone}, 'Your summary',
            'corr', 120, array['whatsapp', 'sms']) c`;
        const reads = (await scans()) - before;
        const [{ n }] = await tx`select count(*)::int as n from public.test_log_inserts`;
        return { claims: claims.map((c) => c.channel), reads, insertStatements: n };
      });
      expect(counted.claims).toEqual(["whatsapp", "sms"]);
      expect(counted.insertStatements).toBe(1);
      // The call's rows once, and the WhatsApp window's check (the person's inbound messages).
      expect(counted.reads).toBeLessThanOrEqual(2);

      // A repeat finds both rows and writes nothing new.
      const again = await db.sql.begin(async (tx) => {
        await tx`delete from public.test_log_inserts`;
        const claims = await tx<(Claim & { to_send: boolean; attempt: number })[]>`
          select c.channel, c.to_send, c.attempt from public.begin_post_call_notification(
            ${"call-one-insert"}, ${phone}, 'Your summary', 'corr', 120,
            array['whatsapp', 'sms']) c`;
        const [{ n }] = await tx`select count(*)::int as n from public.test_log_inserts`;
        return { claims, insertStatements: n };
      });
      expect(again.claims).toEqual([
        { channel: "whatsapp", to_send: false, attempt: 1 },
        { channel: "sms", to_send: false, attempt: 1 },
      ]);
      expect(again.insertStatements).toBe(0);
    } finally {
      await db.sql`drop trigger if exists test_log_inserts on public.message_delivery_log`;
    }
  });
});

describe("a known person's post-call outcomes", () => {
  it("mark their conversation once for both summaries and write their profile once", async () => {
    const phone = "+250788123458";
    await bothSent(await begin("call-a", phone));
    const claims = await begin("call-b", phone);
    expect(claims.map((c) => c.channel).sort()).toEqual(["sms", "whatsapp"]);
    // The call made voice their last active channel; the WhatsApp summary makes it WhatsApp
    // (one write), and the SMS keeps it. Before: each outcome marked its own channel's flag (two
    // updates of the session) and wrote the profile's last active channel (two more).
    expect(await writesOf(() => bothSent(claims))).toEqual([
      "UPDATE profiles",
      "UPDATE omnichannel_sessions",
    ]);

    const [s] = await db.sql`select s.whatsapp_summary_sent, s.sms_summary_sent,
        s.whatsapp_summary_sent_at is not null as wa_at, s.sms_summary_sent_at is not null as sms_at,
        p.last_active_channel
      from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
      where s.id = ${claims[0].session_id}`;
    expect(s).toEqual({
      whatsapp_summary_sent: true,
      sms_summary_sent: true,
      wa_at: true,
      sms_at: true,
      last_active_channel: "whatsapp",
    });
  });

  it("still write the profile when the channel that last carried a message changes", async () => {
    const phone = "+250788123459";
    const [sms] = (await begin("call-c", phone)).filter((c) => c.channel === "sms");
    await db.sql`update public.profiles set last_active_channel = 'voice'
      where phone_number = ${phone}`;
    expect((await writesOf(() => bothSent([sms]))).sort()).toEqual([
      "UPDATE omnichannel_sessions",
      "UPDATE profiles",
    ]);
    const [p] = await db.sql`select last_active_channel from public.profiles
      where phone_number = ${phone}`;
    expect(p.last_active_channel).toBe("sms");
  });
});

describe("post-call outcomes among many conversations", () => {
  it("find the conversation they mark by its key, never by reading every conversation", async () => {
    // Enough conversations, analysed, for the planner's choice to matter. Before, the marks were
    // joined to the table from a jsonb_each the planner takes for 100 rows, and while reading
    // every conversation looked cheaper than 100 index probes (tables of thousands to tens of
    // thousands of rows) it hashed them all on each outcome call.
    await db.sql`with p as (
        insert into public.profiles (phone_number)
        select '+25073' || lpad(g::text, 7, '0') from generate_series(1, 6000) g
        returning id)
      insert into public.omnichannel_sessions (profile_id, status, expires_at)
      select id, 'active', now() + interval '1 day' from p`;
    await db.sql`analyze public.profiles, public.omnichannel_sessions`;
    const claims = await begin("call-many", "+250788123460");

    // Counted around the call in one transaction (the view also holds this connection's counts
    // not yet flushed from earlier transactions, so only the difference is the call's).
    const read = await db.sql.begin(async (tx) => {
      const counts = () =>
        tx<{ relname: string; scanned: number; probes: number }[]>`
          select relname, seq_tup_read::int as scanned, idx_scan::int as probes
          from pg_stat_xact_user_tables
          where relname in ('omnichannel_sessions', 'profiles') order by relname`;
      const before = await counts();
      await tx`select * from public.record_outbound_outcomes(${
        tx.json(claims.map((c) => ({
          delivery_id: c.delivery_id,
          sent: true,
          provider: c.channel === "whatsapp" ? "meta" : "twilio",
          provider_message_id: `${c.channel}-${c.delivery_id}`,
        })))
      })`;
      return (await counts()).map((r, i) => ({
        relname: r.relname,
        scanned: r.scanned - before[i].scanned,
        probes: r.probes - before[i].probes,
      }));
    });
    expect(read).toEqual([
      { relname: "omnichannel_sessions", scanned: 0, probes: expect.any(Number) },
      { relname: "profiles", scanned: 0, probes: expect.any(Number) },
    ]);
    expect(read.every((r) => r.probes > 0)).toBe(true);
    const [s] = await db.sql`select whatsapp_summary_sent, sms_summary_sent
      from public.omnichannel_sessions where id = ${claims[0].session_id}`;
    expect(s).toEqual({ whatsapp_summary_sent: true, sms_summary_sent: true });
  });
});
