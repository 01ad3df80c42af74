import postgres from "postgres";

export type Sql = postgres.Sql;

/** `DB_PREPARE`: `auto` prepares unless the URL is a transaction-mode pooler; `on`/`off` force it. */
export type PrepareMode = "auto" | "on" | "off";

/**
 * Whether named prepared statements are safe on this connection. A transaction-mode pooler
 * (Supabase's Supavisor on port 6543, or any URL marked `pgbouncer=true`) hands each transaction
 * to whichever server connection is free, so a statement prepared on one is missing on the next:
 * there postgres.js must send every query unnamed. A direct connection (port 5432, the session
 * pooler, the local stack's embedded database) keeps its statements, and a prepared statement
 * skips parse and plan on every call after the first.
 */
export function preparedStatementsAllowed(url: string, mode: PrepareMode = "auto"): boolean {
  if (mode !== "auto") return mode === "on";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.port === "6543") return false;
  return parsed.searchParams.get("pgbouncer") !== "true";
}

/**
 * postgres.js with a tiny pool: each edge isolate holds few connections and the pooler
 * multiplexes them. Prepared statements only where the connection keeps them
 * (`preparedStatementsAllowed`); `pgbouncer` is not a server parameter, so it is taken off the URL.
 */
export function createSql(
  url: string,
  opts: { max?: number; onnotice?: () => void; prepare?: PrepareMode } = {},
): Sql {
  const prepare = preparedStatementsAllowed(url, opts.prepare ?? "off");
  return postgres(withoutPoolerHint(url), {
    prepare,
    max: opts.max ?? 3,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: opts.onnotice ?? (() => {}),
  });
}

function withoutPoolerHint(url: string): string {
  if (!url.includes("pgbouncer=")) return url;
  try {
    const parsed = new URL(url);
    parsed.searchParams.delete("pgbouncer");
    return parsed.toString();
  } catch {
    return url;
  }
}
