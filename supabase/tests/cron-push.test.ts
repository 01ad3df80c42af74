import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createSql, type Sql } from "../functions/_shared/db/client.ts";
import { listMigrationFiles } from "../../tests/support/db.ts";

/**
 * pg_cron can only be created in the database named by cron.database_name, so this test pushes
 * the migrations to THAT database (the one DATABASE_URL names, e.g. postgres in CI) and checks the
 * cleanup job is scheduled. It first removes what our migrations created there (tables,
 * functions, the CLI's migration history, our cron jobs), so it is only run when DATABASE_URL is
 * set and is pg_cron's database.
 */
const root = new URL("../../", import.meta.url).pathname;
const run = promisify(execFile);
const serverUrl = process.env.DATABASE_URL;

async function cronSkipReason(): Promise<string | null> {
  if (!serverUrl) return "DATABASE_URL is not set (pg_cron needs a real PostgreSQL)";
  const sql = createSql(serverUrl, { max: 1 });
  try {
    const [row] = await sql`
      select
        exists (select 1 from pg_available_extensions where name = 'pg_cron') as available,
        'pg_cron' = any (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
          as preloaded,
        current_database() as database,
        coalesce(current_setting('cron.database_name', true), 'postgres') as cron_database`;
    if (!row.available) return "pg_cron is not installed on the DATABASE_URL server";
    if (!row.preloaded) return "pg_cron is not in shared_preload_libraries";
    if (row.database !== row.cron_database) {
      return `DATABASE_URL names ${row.database}, but pg_cron lives in ${row.cron_database}`;
    }
    return null;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const skipReason = await cronSkipReason();

/** Names our migrations create in `public`, read from the files so new migrations are covered. */
function ownedObjects(kind: "table" | "function"): string[] {
  const pattern = kind === "table"
    ? /create table (?:if not exists )?public\.(\w+)/gi
    : /create (?:or replace )?function public\.(\w+)/gi;
  const names = new Set<string>();
  for (const file of listMigrationFiles()) {
    for (const match of readFileSync(file, "utf8").matchAll(pattern)) names.add(match[1]);
  }
  return [...names];
}

async function resetOurObjects(sql: Sql): Promise<void> {
  const [{ scheduled }] = await sql`
    select to_regclass('cron.job') is not null and to_regclass('public.scheduled_jobs') is not null
      as scheduled`;
  if (scheduled) {
    await sql`select cron.unschedule(j.jobid) from cron.job j join public.scheduled_jobs s on s.name = j.jobname`;
  }
  for (const table of ownedObjects("table")) {
    await sql.unsafe(`drop table if exists public."${table}" cascade`);
  }
  const functions = await sql`
    select p.oid::regprocedure::text as signature from pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.proname in ${sql(ownedObjects("function"))}`;
  for (const { signature } of functions) await sql.unsafe(`drop function if exists ${signature} cascade`);
  await sql`drop schema if exists supabase_migrations cascade`;
}

describe("pg_cron schedule", () => {
  let sql: Sql | undefined;
  afterAll(() => sql?.end({ timeout: 5 }));

  it.skipIf(skipReason !== null)(
    `puts the session cleanup in cron.job when pushed to pg_cron's database${skipReason ? ` (skipped: ${skipReason})` : ""}`,
    async () => {
      const url = new URL(serverUrl!);
      if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
      sql = createSql(url.toString(), { max: 1 });
      await resetOurObjects(sql);

      await run(`${root}node_modules/.bin/deno`, ["run", "-A", "scripts/bootstrap-db.ts", url.toString()], {
        cwd: root,
      });
      await run(`${root}node_modules/.bin/supabase`, ["db", "push", "--db-url", url.toString(), "--yes"], {
        cwd: root,
      });

      const jobs = await sql`
        select j.jobname, j.schedule, j.command from cron.job j
        join public.scheduled_jobs s on s.name = j.jobname order by j.jobname`;
      expect(jobs).toContainEqual({
        jobname: "omnichannel-cleanup-expired-sessions",
        schedule: "*/5 * * * *",
        command: "call public.cleanup_expired_omnichannel_sessions_in_batches()",
      });
      const [{ all }] = await sql`select count(*)::int as all from public.scheduled_jobs`;
      expect(jobs).toHaveLength(all);

      // Scheduling again (a later migration adding a job) keeps one job per name.
      const [{ sync }] = await sql`select public.sync_scheduled_jobs() as sync`;
      expect(sync).toBe(true);
      const [{ n }] = await sql`
        select count(*)::int as n from cron.job where jobname = 'omnichannel-cleanup-expired-sessions'`;
      expect(n).toBe(1);
    },
  );
});
