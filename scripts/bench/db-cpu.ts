/**
 * CPU used by the PostgreSQL backends serving the benchmark's database, read from /proc: only
 * meaningful when the server runs on this machine (the local PostgreSQL; not PGlite, whose work
 * is in the stack's own process). A backend that started during the run counts from zero.
 */
import type postgres from "postgres";
import { processUsage } from "./process-usage.ts";

export async function backendPids(sql: postgres.Sql): Promise<number[]> {
  try {
    const rows =
      await sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
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
