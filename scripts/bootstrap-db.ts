/**
 * Prepares a non-Supabase PostgreSQL (plain PostgreSQL 15+, PGlite) for our migrations: creates
 * the Supabase roles and auth helpers where they are missing (scripts/sql/bootstrap.sql).
 *
 *   deno run -A scripts/bootstrap-db.ts <db-url>
 *
 * Never for production: Supabase already has all of it, so URLs on Supabase hosts are refused.
 */
import { createSql } from "../supabase/functions/_shared/db/client.ts";

const bootstrapSql = new URL("./sql/bootstrap.sql", import.meta.url);
const SUPABASE_HOSTS = ["supabase.co", "supabase.com"];

export function isSupabaseHost(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return SUPABASE_HOSTS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

export async function bootstrapDatabase(url: string): Promise<void> {
  if (isSupabaseHost(url)) {
    throw new Error(
      "refusing to bootstrap a Supabase database: it already has the roles and auth helpers",
    );
  }
  const sql = createSql(url, { max: 1 });
  try {
    await sql.unsafe(await Deno.readTextFile(bootstrapSql));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  const url = Deno.args[0];
  if (!url) {
    console.error("usage: deno run -A scripts/bootstrap-db.ts <db-url>");
    Deno.exit(2);
  }
  try {
    await bootstrapDatabase(url);
    console.log(
      `bootstrap: roles anon, authenticated, service_role and auth.uid/jwt/role are present`,
    );
  } catch (err) {
    console.error(`bootstrap: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
