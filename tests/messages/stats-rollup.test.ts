/**
 * The stats rollup (20261201150000_message_stats_rollup.sql): public.message_stats, reading the
 * hourly and daily rollup where it is clean and the log elsewhere, gives the same answer as
 * plain SQL over the log — on a randomized log, before the fold, after it, after statuses move,
 * rows are deleted and earlier messages arrive (without a fold: the dirty marks keep it exact),
 * and after the next fold. Times to delivered are whole seconds under 1,000 s, where the
 * histograms are exact; times to read and first responses go past it, within the 1 % promised.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../ai/harness.ts";

const BASE = "2025-03-03T00:00:00Z";

let h: Harness;

/** The figures as plain SQL over the log computes them (percentile_cont over exact values). */
function reference(from: string, to: string, channel: string | null) {
  return h.db.sql`
    with outbound as (
      select m.channel,
             count(*) filter (where m.status in ('sent', 'delivered', 'read')) as sent,
             count(*) filter (where m.status in ('delivered', 'read')) as delivered,
             count(*) filter (where m.status = 'read') as read,
             count(*) filter (where m.status = 'failed') as failed,
             count(*) filter (where m.status = 'blocked') as blocked,
             percentile_cont(0.5) within group (order by extract(epoch from m.delivered_at - m.sent_at)) as d50,
             percentile_cont(0.9) within group (order by extract(epoch from m.delivered_at - m.sent_at)) as d90,
             percentile_cont(0.5) within group (order by extract(epoch from m.read_at - m.sent_at)) as r50,
             percentile_cont(0.9) within group (order by extract(epoch from m.read_at - m.sent_at)) as r90
      from public.message_delivery_log m
      where m.direction = 'outbound' and m.created_at >= ${from}::timestamptz
        and m.created_at < ${to}::timestamptz and (${channel}::text is null or m.channel = ${channel})
      group by m.channel
    ),
    first_in as (
      select distinct on (i.session_id) i.session_id, i.channel, i.created_at as at
      from public.message_delivery_log i
      where i.direction = 'inbound' and i.session_id is not null
      order by i.session_id, i.created_at, i.id
    ),
    responses as (
      select f.channel, percentile_cont(0.5) within group (order by extract(epoch from r.at - f.at)) as f50
      from first_in f
      cross join lateral (
        select o.created_at as at from public.message_delivery_log o
        where o.session_id = f.session_id and o.direction = 'outbound'
          and o.purpose in ('ai_reply', 'agent_reply') and o.created_at >= f.at
        order by o.created_at limit 1) r
      where f.at >= ${from}::timestamptz and f.at < ${to}::timestamptz
        and (${channel}::text is null or f.channel = ${channel})
      group by f.channel
    )
    select coalesce(o.channel, r.channel) as channel,
           coalesce(o.sent, 0)::integer as sent, coalesce(o.delivered, 0)::integer as delivered,
           coalesce(o.read, 0)::integer as read, coalesce(o.failed, 0)::integer as failed,
           coalesce(o.blocked, 0)::integer as blocked,
           case when o.sent > 0 then o.delivered::double precision / o.sent end as delivery_rate,
           case when o.delivered > 0 then o.read::double precision / o.delivered end as read_rate,
           o.d50 as median_seconds_to_delivered, o.d90 as p90_seconds_to_delivered,
           o.r50 as median_seconds_to_read, o.r90 as p90_seconds_to_read,
           r.f50 as median_first_response_seconds
    from outbound o full join responses r on r.channel = o.channel
    order by 1`;
}

const at = (hours: number) => new Date(Date.parse(BASE) + hours * 3_600_000).toISOString();

/** Windows with edges inside hours, whole days, under an hour, one hour, filtered by channel. */
const WINDOWS: [string, string, string | null][] = [
  [at(0.22), at(53.1), null],
  [at(0), at(120), null],
  [at(24.1), at(24.85), null],
  [at(3), at(4), null],
  [at(-24), at(150), "sms"],
  [at(12.5), at(72), "whatsapp"],
  [at(47.99), at(96.01), null],
];

/** Read from histograms with buckets: at most 1 s or 1 % under the exact value, never over. */
const BUCKETED = ["median_seconds_to_read", "p90_seconds_to_read", "median_first_response_seconds"];

async function expectSameAsLog() {
  for (const [from, to, channel] of WINDOWS) {
    const label = `${from}–${to} ${channel}`;
    const got = await h.db.sql`select * from public.message_stats(${from}::timestamptz,
                                 ${to}::timestamptz, ${channel}::text)`;
    const want = await reference(from, to, channel);
    expect(got.length, label).toBeGreaterThan(0);
    // Counts, rates and time to delivered (whole seconds under 1,000 s): exact.
    expect(got.map(exact), label).toEqual(want.map(exact));
    for (const [i, row] of want.entries()) {
      for (const k of BUCKETED) {
        const [g, w] = [got[i][k], row[k]];
        if (w === null) {
          expect(g, `${label} ${k}`).toBeNull();
          continue;
        }
        expect(w - g, `${label} ${k}: ${g} for ${w}`).toBeGreaterThanOrEqual(0);
        expect(w - g, `${label} ${k}: ${g} for ${w}`).toBeLessThanOrEqual(Math.max(1, w / 100));
      }
    }
  }
}

/** The exact fields, numbers to 9 decimals (float8 either way, but computed in another order). */
function exact(row: Record<string, unknown>) {
  return Object.fromEntries(
    Object.entries(row).filter(([k]) => !BUCKETED.includes(k)).map((
      [k, v],
    ) => [k, typeof v === "number" ? Math.round(v * 1e9) / 1e9 : v]),
  );
}

beforeAll(async () => {
  h = await startHarness();
  const { sql } = h.db;
  const people: string[] = [];
  for (let i = 0; i < 30; i++) {
    const [p] = await sql`insert into public.profiles (phone_number) values (${h.newPhone()})
                          returning id`;
    people.push(p.id);
  }
  await sql`insert into public.omnichannel_sessions (profile_id)
            select unnest(${people}::uuid[])`;
  await sql`select setseed(0.4242)`;
  // One statement: 1,200 rows over 5 days, 40 % inbound in the 30 conversations, replies (AI or
  // agent) among the outbound, latencies in whole seconds.
  await sql`
    with s as (select array_agg(id order by id) as ids from public.omnichannel_sessions
               where profile_id = any (${people}::uuid[])),
    r as (
      select g, ${BASE}::timestamptz + make_interval(secs => floor(random() * 5 * 86400)) as t,
             random() as kind, random() as st, floor(random() * 900) as lat, floor(random() * 900) as rlat,
             1 + floor(random() * 30)::int as who, random() as ch
      from generate_series(1, 1200) g
    )
    insert into public.message_delivery_log
      (channel, direction, status, purpose, session_id, created_at, sent_at, delivered_at, read_at)
    select case when r.ch < 0.6 then 'whatsapp' else 'sms' end,
           case when r.kind < 0.4 then 'inbound' else 'outbound' end,
           case when r.kind < 0.4 then 'received'
                when r.st < 0.1 then 'queued' when r.st < 0.3 then 'sent' when r.st < 0.6 then 'delivered'
                when r.st < 0.8 then 'read' when r.st < 0.9 then 'failed' else 'blocked' end,
           case when r.kind between 0.4 and 0.6 then 'ai_reply' when r.kind between 0.6 and 0.7 then 'agent_reply' end,
           case when r.kind < 0.7 then s.ids[r.who] end,
           r.t,
           case when r.kind >= 0.4 and r.st between 0.1 and 0.8 then r.t end,
           case when r.kind >= 0.4 and r.st between 0.3 and 0.8 then r.t + make_interval(secs => r.lat) end,
           case when r.kind >= 0.4 and r.st between 0.6 and 0.8 then r.t + make_interval(secs => r.lat + r.rlat) end
    from r, s`;
});
afterAll(() => h?.close());

describe("message_stats over the rollup", () => {
  it("equals plain SQL over the log before the fold, after it, after changes, and after the next fold", async () => {
    const { sql } = h.db;
    // Before any fold: every hour of the log is marked, read from the log.
    const [marked] = await sql`select count(distinct hour)::int as n from public.message_stats_dirty
                               where hour >= ${at(0)} and hour < ${at(120)}`;
    expect(marked.n).toBe(120);
    await expectSameAsLog();

    while ((await sql`select public.refresh_message_stats(50) as n`)[0].n > 0);
    const [after] = await sql`select
        (select count(*)::int from public.message_stats_dirty where hour >= ${at(0)} and hour < ${
      at(120)
    }) as dirty,
        (select count(distinct day)::int from public.message_stats_daily where day >= ${
      at(0)
    } and day < ${at(120)}) as days`;
    expect(after).toEqual({ dirty: 0, days: 5 });
    await expectSameAsLog();

    // After the fact: statuses move (delivered and read later), some rows go, a conversation's
    // earlier first message arrives, a reply is moved — no fold in between.
    await sql`select setseed(0.77)`;
    await sql`update public.message_delivery_log
      set status = 'read', sent_at = coalesce(sent_at, created_at),
          delivered_at = coalesce(delivered_at, created_at + interval '7 seconds'),
          read_at = coalesce(delivered_at, created_at + interval '7 seconds') + interval '33 seconds'
      where id in (select id from public.message_delivery_log
                   where direction = 'outbound' and created_at >= ${at(0)} and created_at < ${
      at(120)
    }
                   order by id limit 60)`;
    await sql`update public.message_delivery_log set status = 'failed'
      where id in (select id from public.message_delivery_log
                   where direction = 'outbound' and status = 'sent' and created_at >= ${at(0)}
                     and created_at < ${at(120)} order by id desc limit 20)`;
    await sql`delete from public.message_delivery_log
      where id in (select id from public.message_delivery_log
                   where created_at >= ${at(30)} and created_at < ${at(80)} order by id limit 40)`;
    await sql`insert into public.message_delivery_log (channel, direction, status, session_id, created_at)
      select 'sms', 'inbound', 'received', s.session_id, s.first - interval '25 hours'
      from (select session_id, min(created_at) as first from public.message_delivery_log
            where direction = 'inbound' and session_id is not null
              and created_at >= ${at(30)} and created_at < ${at(120)}
            group by session_id order by session_id limit 5) s`;
    await sql`update public.message_delivery_log set created_at = created_at + interval '3 hours 10 minutes'
      where id in (select id from public.message_delivery_log
                   where purpose = 'ai_reply' and created_at >= ${at(0)} and created_at < ${at(110)}
                   order by id limit 15)`;
    await expectSameAsLog();

    while ((await sql`select public.refresh_message_stats(50) as n`)[0].n > 0);
    await expectSameAsLog();
  });

  it("writes of the current hour mark nothing; the watermark keeps them read from the log", async () => {
    const { sql } = h.db;
    while ((await sql`select public.refresh_message_stats(500) as n`)[0].n > 0);
    const [s] = await sql`select id from public.omnichannel_sessions order by id limit 1`;
    const [inbound] = await sql`insert into public.message_delivery_log
        (channel, direction, status, session_id, body) values ('whatsapp', 'inbound', 'received', ${s.id}, 'hi')
      returning id`;
    const [sent] = await sql`insert into public.message_delivery_log
        (channel, direction, status, recipient, body) values ('whatsapp', 'outbound', 'queued', '+250788123456', 'x')
      returning id`;
    await sql`update public.message_delivery_log set status = 'sent', sent_at = now() - interval '9 seconds'
      where id = ${sent.id}`;
    await sql`update public.message_delivery_log set status = 'delivered', delivered_at = sent_at + interval '9 seconds'
      where id = ${sent.id}`;
    await sql`update public.message_delivery_log set reply_state = 'done' where id = ${inbound.id}`;
    const [{ n }] = await sql`select count(*)::int as n from public.message_stats_dirty`;
    expect(n).toBe(0);
    // Not folded (the hour is not over), read from the log: the new rows count.
    const [state] =
      await sql`select folded_before <= date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00') as behind
      from public.message_stats_state`;
    expect(state.behind).toBe(true);
    const from = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const [got] =
      await sql`select * from public.message_stats(${from}::timestamptz, ${to}::timestamptz, 'whatsapp')`;
    const [want] = await reference(from, to, "whatsapp");
    expect(exact(got)).toEqual(exact(want));
    expect(got.delivered).toBeGreaterThanOrEqual(1);
  });

  it("a late status of an earlier hour's message, and a reply to a conversation begun hours ago, mark those hours", async () => {
    const { sql } = h.db;
    while ((await sql`select public.refresh_message_stats(500) as n`)[0].n > 0);
    const [p] =
      await sql`insert into public.profiles (phone_number) values (${h.newPhone()}) returning id`;
    const [s] =
      await sql`insert into public.omnichannel_sessions (profile_id) values (${p.id}) returning id`;
    const [old] = await sql`insert into public.message_delivery_log
        (channel, direction, status, session_id, created_at, body)
      values ('sms', 'inbound', 'received', ${s.id}, ${at(2000)}::timestamptz, 'first')
      returning id`;
    const [sent] = await sql`insert into public.message_delivery_log
        (channel, direction, status, recipient, created_at, body)
      values ('sms', 'outbound', 'sent', '+250788123457', ${at(2010.5)}::timestamptz, 'x')
      returning id`;
    while ((await sql`select public.refresh_message_stats(500) as n`)[0].n > 0);
    expect(old.id).toBeTruthy();
    const marked = async () =>
      (await sql`select hour from public.message_stats_dirty order by hour`).map((r) =>
        (r.hour as Date).toISOString()
      );
    expect(await marked()).toEqual([]);

    await sql`update public.message_delivery_log set status = 'delivered' where id = ${sent.id}`;
    expect(await marked()).toEqual([at(2010)]);

    await sql`insert into public.message_delivery_log
        (channel, direction, status, purpose, session_id, recipient, body)
      values ('sms', 'outbound', 'queued', 'ai_reply', ${s.id}, '+250788123457', 'reply')`;
    expect(await marked()).toEqual([at(2000), at(2010)]);
  });

  it("marks nothing when only the agent worker's columns change", async () => {
    const { sql } = h.db;
    while ((await sql`select public.refresh_message_stats(500) as n`)[0].n > 0);
    await sql`update public.message_delivery_log set reply_state = 'done', leased_until = null
      where direction = 'inbound' and created_at >= ${at(0)} and created_at < ${at(120)}`;
    const [{ n }] = await sql`select count(*)::int as n from public.message_stats_dirty
                              where hour >= ${at(-48)} and hour < ${at(120)}`;
    expect(n).toBe(0);
  });
});
