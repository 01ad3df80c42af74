import postgres from "postgres";

export type Sql = postgres.Sql;

/**
 * postgres.js with `prepare: false` so Supabase's transaction-mode pooler (port 6543) works, and
 * a tiny pool: each edge isolate holds few connections and the pooler multiplexes them.
 */
export function createSql(url: string, opts: { max?: number; onnotice?: () => void } = {}): Sql {
  return postgres(url, {
    prepare: false,
    max: opts.max ?? 3,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: opts.onnotice ?? (() => {}),
  });
}
