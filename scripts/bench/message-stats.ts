/**
 * `npm run bench -- stats`: GET /messages/stats over a delivery log of --rows (1,000,000) rows
 * spread over 90 days (60 % outbound on WhatsApp and SMS with their statuses and delivery times,
 * 40 % inbound in 50,000 conversations, half of them answered by the AI), analysed and vacuumed
 * as a live table is, then folded into the rollup by `public.refresh_message_stats` as the
 * scheduled job would (timed). Times `public.message_stats` in the database for windows of 1, 7,
 * 30 and 90 days, and the endpoint through the gateway for 7 days, 7 runs each after a warm-up.
 * Then what the rollup's triggers (row marks) cost the hot paths: 1,000 single-row status updates
 * and 1,000 single-row inserts, each its own transaction, with the triggers and without.
 */
import postgres from "postgres";
import type { Stack } from "../stack/stack.ts";
import { fmt, percentile } from "./stats.ts";

export interface StatsBenchRow {
  window: string;
  rows: number;
  medianMs: number;
  p90Ms: number;
}

const DAYS = 90;
const RUNS = 7;

export interface HotPathCost {
  statement: string;
  withMs: number;
  withoutMs: number;
}

export async function benchMessageStats(
  stack: Stack,
  opts: { rows: number; log: (s: string) => void },
): Promise<{ sql: StatsBenchRow[]; http: StatsBenchRow; foldSeconds: number; hot: HotPathCost[] }> {
  const sql = postgres(stack.urls.db, { prepare: false, max: 1, onnotice: () => {} });
  try {
    await fill(sql, opts);
    const t0 = performance.now();
    while ((await sql`select public.refresh_message_stats(500) as n`)[0].n > 0);
    const foldSeconds = (performance.now() - t0) / 1000;
    await sql`analyze public.message_stats_hourly`;
    await sql`analyze public.message_stats_daily`;
    opts.log(`  folded the log into the rollup in ${fmt(foldSeconds)} s`);
    const now = Date.now();
    const results: StatsBenchRow[] = [];
    for (const days of [1, 7, 30, DAYS]) {
      const from = new Date(now - days * 86_400_000).toISOString();
      const to = new Date(now).toISOString();
      const [{ n }] = await sql`select count(*)::int as n from public.message_delivery_log
                                where created_at >= ${from} and created_at < ${to}`;
      await sql`select * from public.message_stats(${from}::timestamptz, ${to}::timestamptz)`;
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await sql`select * from public.message_stats(${from}::timestamptz, ${to}::timestamptz)`;
        times.push(performance.now() - t);
      }
      results.push(row(`${days} day${days > 1 ? "s" : ""} (SQL)`, n, times));
      opts.log(`  ${days} days: ${fmt(Math.min(...times), 1)}–${fmt(Math.max(...times), 1)} ms`);
    }
    const from = new Date(now - 7 * 86_400_000).toISOString();
    const url = `${stack.urls.functions}/messages/stats?from=${from}&to=${
      new Date(now).toISOString()
    }`;
    const get = async () => {
      const res = await fetch(url, { headers: { apikey: stack.keys.secret } });
      if (res.status !== 200) {
        throw new Error(`GET /messages/stats: ${res.status} ${await res.text()}`);
      }
      await res.json();
    };
    await get();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await get();
      times.push(performance.now() - t);
    }
    const hot = await hotPathCost(sql);
    return {
      sql: results,
      http: row("7 days (GET through the gateway)", results[1].rows, times),
      foldSeconds,
      hot,
    };
  } finally {
    await sql.end();
  }
}

function row(window: string, rows: number, times: number[]): StatsBenchRow {
  const sorted = [...times].sort((a, b) => a - b);
  return { window, rows, medianMs: percentile(sorted, 50), p90Ms: percentile(sorted, 90) };
}

/** 1,000 single-row status updates and inserts with the stats triggers and without, alternating. */
async function hotPathCost(sql: postgres.Sql): Promise<HotPathCost[]> {
  const N = 1000;
  const ids = (await sql`select id from public.message_delivery_log
                         where direction = 'outbound' and status = 'sent' limit ${N}`).map((r) =>
    r.id
  );
  const triggers = ["insert", "update", "delete"].map((op) => `message_delivery_log_stats_${op}`);
  const setTriggers = async (on: boolean) => {
    for (const t of triggers) {
      await sql.unsafe(
        `alter table public.message_delivery_log ${on ? "enable" : "disable"} trigger ${t}`,
      );
    }
  };
  const statements: [string, (i: number) => Promise<unknown>][] = [
    [
      "status update (one row)",
      (i) =>
        sql`update public.message_delivery_log
            set status = case when status = 'sent' then 'delivered' else 'sent' end,
                delivered_at = now() where id = ${ids[i % ids.length]}`,
    ],
    [
      "inbound insert (one row)",
      () =>
        sql`insert into public.message_delivery_log (channel, direction, status, session_id)
            select 'whatsapp', 'inbound', 'received', s.id from bench_sessions s
            where s.n = 1 + floor(random() * 50000)::int`,
    ],
  ];
  const out: HotPathCost[] = [];
  for (const [statement, run] of statements) {
    const ms = { on: 0, off: 0 };
    // Alternate blocks of 100 so the machine's load falls on both alike.
    for (let block = 0; block < 10; block++) {
      for (const on of [true, false]) {
        await setTriggers(on);
        const t = performance.now();
        for (let i = 0; i < N / 10; i++) await run(block * 100 + i);
        ms[on ? "on" : "off"] += performance.now() - t;
      }
    }
    await setTriggers(true);
    out.push({ statement, withMs: ms.on / N, withoutMs: ms.off / N });
  }
  return out;
}

/** The log: inbound rows in 50,000 conversations, outbound with realistic statuses and times. */
async function fill(sql: postgres.Sql, opts: { rows: number; log: (s: string) => void }) {
  const conversations = 50_000;
  const t0 = performance.now();
  await sql`insert into public.profiles (phone_number)
    select '+1666' || lpad(g::text, 7, '0') from generate_series(1, ${conversations}::int) g`;
  await sql`insert into public.omnichannel_sessions (profile_id, status)
    select p.id, 'closed' from public.profiles p where p.phone_number like '+1666%'`;
  await sql`create temporary table bench_sessions as
    select row_number() over (order by s.id) as n, s.id, s.profile_id
    from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
    where p.phone_number like '+1666%'`;
  const chunk = 100_000;
  for (let from = 0; from < opts.rows; from += chunk) {
    const n = Math.min(chunk, opts.rows - from);
    // Row g: inbound when g % 5 < 2 (40 %), of which the AI answers every other one a few
    // seconds to minutes later; the rest outbound, WhatsApp 60 %, statuses by g % 20.
    await sql`insert into public.message_delivery_log
      (channel, direction, status, purpose, session_id, profile_id, created_at, sent_at, delivered_at, read_at)
      select case when g % 5 < 3 then 'whatsapp' else 'sms' end,
             case when g % 5 < 2 then 'inbound' else 'outbound' end,
             case when g % 5 < 2 then 'received'
                  when g % 20 < 10 then 'delivered' when g % 20 < 14 then 'read'
                  when g % 20 < 17 then 'sent' when g % 20 < 19 then 'failed' else 'blocked' end,
             case when g % 5 = 2 and g % 10 = 2 then 'ai_reply' end,
             s.id, s.profile_id, at,
             case when g % 5 >= 2 and g % 20 < 17 then at end,
             case when g % 5 >= 2 and g % 20 < 14 then at + make_interval(secs => 1 + g % 97) end,
             case when g % 5 >= 2 and g % 20 between 10 and 13 then at + make_interval(secs => 200 + g % 600) end
      from generate_series(${from + 1}::int, ${from + n}::int) g
      cross join lateral (select now() - make_interval(secs => (g::bigint * 7919 % (${DAYS}::int * 86400))::double precision) as at) t
      join bench_sessions s on s.n = 1 + (g / 5) % ${conversations}::int`;
    opts.log(
      `  wrote ${from + n}/${opts.rows} log rows (${fmt((performance.now() - t0) / 1000)} s)`,
    );
  }
  await sql`vacuum analyze public.message_delivery_log`;
  await sql`analyze public.omnichannel_sessions`;
}
