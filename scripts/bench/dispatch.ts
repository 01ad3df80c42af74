/**
 * `npm run bench -- dispatch`: queued WhatsApp messages across K senders (phone number ids),
 * drained by dispatchers through the gateway, against a provider that allows R msg/s per sender
 * (`--rate`, 80 by default; 1,000 for Meta's upgraded tier) and answers 429 / 130429 past it.
 * Reports per-sender msg/s, 429s received (target 0), the aggregate, the dispatch function's
 * peak memory and CPU per call and per message, and the database backends' CPU per message.
 */
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import type { Stack } from "../stack/stack.ts";
import type { SenderCounts } from "./rate-limited-provider.ts";
import { functionPid, processUsage } from "./process-usage.ts";
import { fmt } from "./stats.ts";
import { dbCpuAround } from "./db-cpu.ts";

export const dispatchSenders = (k: number) =>
  Array.from({ length: k }, (_, i) => String(100000000000001 + i));

export interface DispatchBenchResult {
  messages: number;
  seconds: number;
  perSender: { sender: string; accepted: number; perSecond: number; throttled: number }[];
  aggregatePerSecond: number;
  throttled: number;
  invocations: number;
  peakRssMiB: number | null;
  cpuMsPerInvocation: number | null;
  cpuMsPerMessage: number | null;
  dbCpuMsPerMessage: number | null;
  maxInvocationMs: number;
  leftQueued: number;
}

export async function benchDispatch(
  stack: Stack,
  counts: Map<string, SenderCounts>,
  opts: {
    messages: number;
    senders: number;
    dispatchers: number;
    budgetMs: number;
    log: (s: string) => void;
  },
): Promise<DispatchBenchResult> {
  const DISPATCH_SENDERS = dispatchSenders(opts.senders);
  const sql = postgres(stack.urls.db, { prepare: false, max: 2, onnotice: () => {} });
  const perSender = Math.ceil(opts.messages / DISPATCH_SENDERS.length);
  await sql`delete from public.sender_rate_limits`;
  for (const sender of DISPATCH_SENDERS) {
    await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body, sender_key)
      select 'whatsapp', 'outbound', 'queued', '+2507' || lpad((${
      Number(sender.slice(-1))
    } * 1000000 + g)::text, 8, '0'),
             'Your appointment is confirmed for Tuesday 10:00.', ${`whatsapp:${sender}`}
      from generate_series(1, ${perSender}) g`;
  }
  await sql`analyze`;
  const total = perSender * DISPATCH_SENDERS.length;
  opts.log(`  queued ${total} messages across ${DISPATCH_SENDERS.length} senders`);

  const pid = await functionPid(stack.pidOf("dispatch") ?? 0);
  const before = await processUsage(pid);
  let invocations = 0;
  let maxInvocationMs = 0;
  const started = performance.now();
  const remaining = async () =>
    Number(
      (await sql`select count(*) as n from public.message_delivery_log
        where direction = 'outbound' and status = 'queued'`)[0]
        .n,
    );

  const progress = setInterval(async () => {
    opts.log(
      `  … ${total - (await remaining())}/${total} sent after ${
        fmt((performance.now() - started) / 1000)
      } s`,
    );
  }, 5_000);
  const client = createClient(stack.urls.api, stack.keys.secret, {
    auth: { persistSession: false },
  });
  const worker = async () => {
    for (;;) {
      const t = performance.now();
      const { data: body, error } = await client.functions.invoke("dispatch", {
        body: { time_budget_ms: opts.budgetMs, replies: false },
      });
      invocations++;
      maxInvocationMs = Math.max(maxInvocationMs, performance.now() - t);
      if (error) throw new Error(`dispatch failed: ${error.message}`);
      if (body.deliveries.claimed === 0 && (await remaining()) === 0) return;
      if (body.deliveries.claimed === 0) await new Promise((r) => setTimeout(r, 200));
    }
  };
  const { cpuMs: dbCpuMs } = await dbCpuAround(sql, async () => {
    try {
      await Promise.all(Array.from({ length: opts.dispatchers }, worker));
    } finally {
      clearInterval(progress);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const after = await processUsage(pid);
  const leftQueued = await remaining();
  await sql.end();

  const rows = DISPATCH_SENDERS.map((sender) => {
    const c = counts.get(sender) ?? { accepted: 0, throttled: 0, first: 0, last: 0 };
    const span = (c.last - c.first) / 1000;
    return {
      sender,
      accepted: c.accepted,
      perSecond: span > 0 ? (c.accepted - 1) / span : NaN,
      throttled: c.throttled,
    };
  });
  return {
    messages: total,
    seconds,
    perSender: rows,
    aggregatePerSecond: rows.reduce((a, r) => a + r.accepted, 0) / seconds,
    throttled: rows.reduce((a, r) => a + r.throttled, 0),
    invocations,
    peakRssMiB: after?.peakRssMiB ?? null,
    cpuMsPerInvocation: before && after ? (after.cpuMs - before.cpuMs) / invocations : null,
    cpuMsPerMessage: before && after ? (after.cpuMs - before.cpuMs) / total : null,
    dbCpuMsPerMessage: dbCpuMs === null ? null : dbCpuMs / total,
    maxInvocationMs,
    leftQueued,
  };
}
