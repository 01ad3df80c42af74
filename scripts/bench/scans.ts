/**
 * Whole-table reads of the tables that grow with traffic, counted by PostgreSQL
 * (pg_stat_user_tables) around a benchmark's phases. A hot path that reads a table to find one
 * row shows here long before it shows in a throughput figure: record_outbound_outcomes' join to
 * its marks hashed every conversation, one scan per notification, at no visible cost on a
 * benchmark-sized table.
 *
 * The counts are as the server has them: each backend reports its own at most once a second, so
 * the snapshot after the phases waits that long first. ANALYZE and VACUUM are not counted.
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
  const rows = await sql<{ relname: string; scans: string; rows: string }[]>`
    select relname, coalesce(seq_scan, 0)::text as scans, coalesce(seq_tup_read, 0)::text as rows
    from pg_stat_user_tables where schemaname = 'public' and relname = any(${[...GROWING]})`;
  return new Map(rows.map((r) => [r.relname, { scans: Number(r.scans), rows: Number(r.rows) }]));
}

/** "none", or each table that was read whole: `profiles 12 (3,401 rows)`. */
export function scansBetween(before: ScanCounts, after: ScanCounts): string {
  const read = [...after].flatMap(([table, a]) => {
    const b = before.get(table) ?? { scans: 0, rows: 0 };
    const scans = a.scans - b.scans;
    return scans > 0
      ? [`${table} ${scans.toLocaleString("en")} (${(a.rows - b.rows).toLocaleString("en")} rows)`]
      : [];
  });
  return read.length ? read.join(", ") : "none";
}
