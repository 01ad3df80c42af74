import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createSql, type Sql } from "../functions/_shared/db/client.ts";

/**
 * pg_cron can only be created in the database named by cron.database_name, so this test needs
 * that database to be one of its own: it creates it, pushes the migrations there with the
 * Supabase CLI, checks the cleanup job is in cron.job, and drops it (its cron jobs go with it).
 * It never touches the database DATABASE_URL names, nor any database that already exists: when
 * pg_cron lives in one of those it is skipped, saying why. CI sets cron.database_name to a
 * scratch name (.ci/run: omni_cron); until the database exists pg_cron's launcher retries.
 */
const root = new URL("../../", import.meta.url).pathname;
const run = promisify(execFile);
const serverUrl = process.env.DATABASE_URL;

async function cronDatabase(): Promise<{ name: string } | { skip: string }> {
  if (!serverUrl) return { skip: "DATABASE_URL is not set (pg_cron needs a real PostgreSQL)" };
  const sql = createSql(serverUrl, { max: 1 });
  try {
    const [row] = await sql`
      select
        exists (select 1 from pg_available_extensions where name = 'pg_cron') as available,
        'pg_cron' = any (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
          as preloaded,
        current_database() as database,
        coalesce(current_setting('cron.database_name', true), 'postgres') as cron_database`;
    if (!row.available) return { skip: "pg_cron is not installed on the DATABASE_URL server" };
    if (!row.preloaded) return { skip: "pg_cron is not in shared_preload_libraries" };
    const [exists] = await sql`select 1 from pg_database where datname = ${row.cron_database}`;
    if (row.cron_database === row.database || exists) {
      return {
        skip: `pg_cron lives in ${row.cron_database}, a database this test did not create; ` +
          "set cron.database_name to a scratch name (CI: omni_cron) to run it",
      };
    }
    return { name: row.cron_database };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const target = await cronDatabase();
const skipReason = "skip" in target ? target.skip : null;

function withDatabase(database: string): string {
  const url = new URL(serverUrl!);
  url.pathname = `/${database}`;
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  return url.toString();
}

describe("pg_cron schedule", () => {
  let sql: Sql | undefined;
  let created: string | undefined;
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    if (!created) return;
    const admin = createSql(serverUrl!, { max: 1 });
    try {
      await admin.unsafe(`drop database if exists "${created}" with (force)`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  });

  it.skipIf(skipReason !== null)(
    `puts the session cleanup in cron.job when pushed to pg_cron's database${
      skipReason ? ` (skipped: ${skipReason})` : ""
    }`,
    async () => {
      const name = (target as { name: string }).name;
      const admin = createSql(serverUrl!, { max: 1 });
      try {
        await admin.unsafe(`create database "${name}"`);
        created = name;
      } finally {
        await admin.end({ timeout: 5 });
      }
      const url = withDatabase(name);
      sql = createSql(url, { max: 1 });

      await run(`${root}node_modules/.bin/deno`, ["run", "-A", "scripts/bootstrap-db.ts", url], {
        cwd: root,
      });
      await run(`${root}node_modules/.bin/supabase`, ["db", "push", "--db-url", url, "--yes"], {
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
