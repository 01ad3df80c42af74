/**
 * CPU used by the PostgreSQL backends serving the benchmark's database, read from /proc: only
 * meaningful when the server runs on this machine (the local PostgreSQL; not PGlite, whose work
 * is in the stack's own process). A backend that started during the run counts from zero.
 */
import type postgres from "postgres";
import { processUsage } from "./process-usage.ts";

// Every backend, the asking one too: a pool asks from whichever connection is free, and leaving out
// the asker counted a connection's whole lifetime when a later call asked from another.
export async function backendPids(sql: postgres.Sql): Promise<number[]> {
  try {
    const rows = await sql`select pid from pg_stat_activity where datname = current_database()`;
    return rows.map((r) => Number(r.pid));
  } catch {
    return [];
  }
}

/** CPU ms per backend pid; null when none can be read (a remote server, or PGlite). */
export async function cpuMsOf(pids: number[]): Promise<Map<number, number> | null> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const u = await processUsage(pid);
    if (u) out.set(pid, u.cpuMs);
  }
  return out.size ? out : null;
}

/**
 * Runs `fn` and returns the CPU the database's backends spent meanwhile, in ms (null when it can't
 * be read). Backends open at the start and at the end are counted (one that started during the
 * run counts from zero; one that both started and ended during it is missed, which is why a
 * benchmark warms its pools up first).
 */
export async function dbCpuAround<T>(
  sql: postgres.Sql,
  fn: () => Promise<T>,
): Promise<{ result: T; cpuMs: number | null }> {
  const before = await cpuMsOf(await backendPids(sql));
  const result = await fn();
  const pids = await backendPids(sql);
  const after = await cpuMsOf(pids);
  const cpuMs = after === null
    ? null
    : pids.reduce((a, p) => a + (after.get(p) ?? 0) - (before?.get(p) ?? 0), 0);
  return { result, cpuMs };
}
