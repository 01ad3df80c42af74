/**
 * `npm run bench -- cleanup`: expire N sessions (default 1,000,000) and close them twice, side by
 * side: once in one transaction (`cleanup_expired_omnichannel_sessions()`, every row locked
 * until the end) and once in batches of 5,000, each its own transaction, as the scheduled
 * procedure does. Reports the total time and the longest lock held (the longest transaction).
 */
import postgres from "postgres";
import type { Stack } from "../stack/stack.ts";
import { fmt } from "./stats.ts";

export interface CleanupBenchResult {
  sessions: number;
  single: { seconds: number; closed: number; longestLockMs: number };
  batched: { seconds: number; closed: number; longestLockMs: number; batches: number };
}

export async function benchCleanup(
  stack: Stack,
  opts: { sessions: number; batchSize: number; log: (s: string) => void },
): Promise<CleanupBenchResult> {
  const sql = postgres(stack.urls.db, {
    prepare: false,
    max: 1,
    onnotice: () => {},
    idle_timeout: 0,
  });
  try {
    const chunk = 100_000;
    const t0 = performance.now();
    for (let from = 0; from < opts.sessions; from += chunk) {
      const n = Math.min(chunk, opts.sessions - from);
      await sql.begin(async (tx) => {
        await tx`insert into public.profiles (phone_number)
          select '+1555' || lpad((${from} + g)::text, 7, '0') from generate_series(1, ${n}) g`;
        await tx`insert into public.omnichannel_sessions (profile_id, status, expires_at)
          select p.id, 'active', now() - interval '1 hour' from public.profiles p
          where p.phone_number between ${"+1555" + String(from + 1).padStart(7, "0")}
                                   and ${"+1555" + String(from + n).padStart(7, "0")}`;
      });
      opts.log(
        `  created ${from + n}/${opts.sessions} expired sessions (${
          fmt((performance.now() - t0) / 1000)
        } s)`,
      );
    }

    let t = performance.now();
    const [{ closed }] = await sql`select public.cleanup_expired_omnichannel_sessions(${
      opts.sessions + 1
    }) as closed`;
    const singleMs = performance.now() - t;
    opts.log(`  one transaction: ${closed} closed in ${fmt(singleMs / 1000)} s`);

    await sql`update public.omnichannel_sessions set status = 'active', closed_at = null
      where status = 'closed' and expires_at < now()`;

    let batches = 0;
    let total = 0;
    let longest = 0;
    t = performance.now();
    for (;;) {
      const b = performance.now();
      const [{ n }] =
        await sql`select public.cleanup_expired_omnichannel_sessions_batch(${opts.batchSize}) as n`;
      longest = Math.max(longest, performance.now() - b);
      batches++;
      total += n;
      if (n < opts.batchSize) break;
      if (batches % 40 === 0) opts.log(`  batched: ${total}/${opts.sessions}`);
    }
    const batchedMs = performance.now() - t;
    opts.log(`  batched: ${total} closed in ${fmt(batchedMs / 1000)} s, ${batches} batches`);
    return {
      sessions: opts.sessions,
      single: { seconds: singleMs / 1000, closed: Number(closed), longestLockMs: singleMs },
      batched: { seconds: batchedMs / 1000, closed: total, longestLockMs: longest, batches },
    };
  } finally {
    await sql.end();
  }
}
