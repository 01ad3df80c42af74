/**
 * Whole-table reads of the tables that grow with traffic, counted by PostgreSQL
 * (pg_stat_user_tables) around a benchmark's phases. A hot path that reads a table to find one
 * row shows here long before it shows in a throughput figure: record_outbound_outcomes' join to
 * its marks hashed every conversation, one scan per notification, at no visible cost on a
 * benchmark-sized table.
 *
 * The counts are as the server has them: a busy backend reports its own at most once a second,
 * so the count after each wrapped piece of work waits that long first (one gone idle reports
 * within 10 s, so the last second of a phase can be missed); the benchmark's own connection
 * reports before each count. ANALYZE and VACUUM are not counted.
 */
import type postgres from "postgres";

const GROWING = [
  "profiles",
  "omnichannel_sessions",
  "message_delivery_log",
  "tenant_profiles",
  "inbound_inbox",
  "status_inbox",
] as const;

export type ScanCounts = Map<string, { scans: number; rows: number }>;

export async function tableScans(sql: postgres.Sql, settleMs = 0): Promise<ScanCounts> {
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  // This connection's own counts (a drain's counting queries) are reported now, not up to 10 s
  // later inside the next phase.
  await sql`select pg_stat_force_next_flush()`;
  const rows = await sql<{ relname: string; scans: string; rows: string }[]>`
    select relname, coalesce(seq_scan, 0)::text as scans, coalesce(seq_tup_read, 0)::text as rows
    from pg_stat_user_tables where schemaname = 'public' and relname = any(${[...GROWING]})`;
  return new Map(rows.map((r) => [r.relname, { scans: Number(r.scans), rows: Number(r.rows) }]));
}

/**
 * Counts the whole-table reads of the work it wraps, summed over every call (the webhook
 * benchmark wraps each phase, and leaves out its own drains, whose counting queries read the
 * inboxes and the log whole).
 */
export function scanCounter(sql: postgres.Sql) {
  const total: ScanCounts = new Map();
  return {
    async around<T>(work: () => Promise<T>): Promise<T> {
      const before = await tableScans(sql);
      const result = await work();
      const after = await tableScans(sql, 1_100);
      for (const [table, a] of after) {
        const b = before.get(table) ?? { scans: 0, rows: 0 };
        const t = total.get(table) ?? { scans: 0, rows: 0 };
        total.set(table, { scans: t.scans + a.scans - b.scans, rows: t.rows + a.rows - b.rows });
      }
      return result;
    },
    /** "none", or each table that was read whole: `profiles 12 (3,401 rows)`. */
    report(): string {
      const read = [...total].filter(([, t]) => t.scans > 0).map(([table, t]) =>
        `${table} ${t.scans.toLocaleString("en")} (${t.rows.toLocaleString("en")} rows)`
      );
      return read.length ? read.join(", ") : "none";
    },
  };
}
