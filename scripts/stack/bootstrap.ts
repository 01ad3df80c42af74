import { bootstrapDatabase, isSupabaseHost } from "../bootstrap-db.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import type { Database } from "./database.ts";

/**
 * Supabase's Postgres (hosted, self-hosted or the CLI's) already has the roles and auth helpers
 * the migrations use, and is never bootstrapped: a Supabase host name or, for self-hosted and
 * the CLI's database, Supabase's own `supabase_admin` role gives it away.
 */
async function isSupabasePostgres(url: string): Promise<boolean> {
  const sql = createSql(url, { max: 1 });
  try {
    const [row] = await sql<{ supabase: boolean }[]>`
      select exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin') as supabase`;
    return row.supabase;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** Bootstraps the embedded database or a plain PostgreSQL; says which it did. */
export async function bootstrapIfNeeded(db: Database): Promise<"bootstrapped" | "supabase"> {
  if (!db.embedded && (isSupabaseHost(db.url) || await isSupabasePostgres(db.url))) {
    return "supabase";
  }
  await bootstrapDatabase(db.url);
  return "bootstrapped";
}
