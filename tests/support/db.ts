/**
 * Test database harness.
 *
 * `createTestDatabase()` gives each caller a fresh, migrated database and a postgres.js client:
 * - with DATABASE_URL (a real PostgreSQL): a new database cloned from a migrated template,
 *   dropped on close;
 * - otherwise: an in-memory PGlite served over the Postgres wire protocol
 *   (scripts/lib/pglite-server.ts), so code under test connects with postgres.js through `url`
 *   exactly as in production.
 *
 * Migrations are applied here by executing each file in order in its own transaction, which is
 * what the Supabase CLI does and is much faster than spawning it; the CLI path itself is covered
 * by supabase/tests/cli-push.test.ts.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { startPGliteServer } from "../../scripts/lib/pglite-server.ts";
import { createSql, type Sql } from "../../supabase/functions/_shared/db/client.ts";

export type { Sql };

export interface TestDatabase {
  url: string;
  sql: Sql;
  close(): Promise<void>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const migrationsDir = join(root, "supabase/migrations");
export const bootstrapFile = join(root, "scripts/sql/bootstrap.sql");

/** Migration files, absolute paths, in the order the CLI applies them (by version prefix). */
export function listMigrationFiles(): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => /^\d{14}_.+\.sql$/.test(f))
    .sort()
    .map((f) => join(migrationsDir, f));
}

export async function applyBootstrap(sql: Sql): Promise<void> {
  await sql.unsafe(readFileSync(bootstrapFile, "utf8"));
}

/** Each migration in order, each in its own transaction, as `supabase db push` does. */
export async function applyMigrations(sql: Sql): Promise<void> {
  for (const file of listMigrationFiles()) {
    const text = readFileSync(file, "utf8");
    await sql.begin((tx) => tx.unsafe(text));
  }
}

/**
 * Runs `fn` in a transaction that is always rolled back, so a test leaves nothing behind.
 * Use it for tests that count rows database-wide (cleanup) or switch roles (`set local role`).
 */
export async function withRollback<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  const rollback = Symbol("rollback");
  let result: T | undefined;
  try {
    await sql.begin(async (tx) => {
      result = await fn(tx as unknown as Sql);
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return result as T;
}

export interface TestDatabaseOptions {
  /** An empty database: no bootstrap, no migrations (for testing those themselves). */
  empty?: boolean;
}

export function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  return serverUrl ? createPostgresDatabase(serverUrl, opts) : createPGliteDatabase(opts);
}

let counter = 0;

async function createPostgresDatabase(serverUrl: string, opts: TestDatabaseOptions): Promise<TestDatabase> {
  const admin = createSql(serverUrl, { max: 1 });
  try {
    const template = opts.empty ? "template0" : await ensureTemplate(admin, serverUrl);
    const name = `omni_t_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.unsafe(`create database "${name}" template "${template}"`);
    const url = withDatabase(serverUrl, name);
    const sql = createSql(url, { max: 25 });
    return {
      url,
      sql,
      async close() {
        await sql.end({ timeout: 5 });
        const dropper = createSql(serverUrl, { max: 1 });
        try {
          await dropper.unsafe(`drop database if exists "${name}" with (force)`);
        } finally {
          await dropper.end({ timeout: 5 });
        }
      },
    };
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * A migrated template database named after the hash of the bootstrap and migrations, so a
 * changed migration gets a new template. Parallel vitest workers serialize on an advisory lock:
 * the first builds it, the others find it built.
 */
async function ensureTemplate(admin: Sql, serverUrl: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of [bootstrapFile, ...listMigrationFiles()]) hash.update(readFileSync(file));
  const template = `omni_tpl_${hash.digest("hex").slice(0, 16)}`;

  // A session-level lock on a reserved connection: CREATE DATABASE cannot run in a transaction.
  const conn = await admin.reserve();
  try {
    await conn`select pg_advisory_lock(hashtext('omni_test_template'))`;
    const [found] = await conn`select 1 from pg_database where datname = ${template}`;
    if (found) return template;

    // Templates of older migrations are dead weight; one still being cloned stays until next time.
    const stale = await conn`
      select datname from pg_database where datname like 'omni\_tpl\_%' and datname <> ${template}`;
    for (const { datname } of stale) {
      await conn.unsafe(`drop database if exists "${datname}"`).catch(() => {});
    }

    const building = `${template}_build`;
    await conn.unsafe(`drop database if exists "${building}" with (force)`);
    await conn.unsafe(`create database "${building}"`);
    const db = createSql(withDatabase(serverUrl, building), { max: 1 });
    try {
      await applyBootstrap(db);
      await applyMigrations(db);
    } finally {
      await db.end({ timeout: 5 });
    }
    await conn.unsafe(`alter database "${building}" rename to "${template}"`);
    return template;
  } finally {
    await conn`select pg_advisory_unlock(hashtext('omni_test_template'))`;
    conn.release();
  }
}

/**
 * The server URL pointed at another database. sslmode=disable unless the URL says otherwise:
 * the Supabase CLI otherwise tries TLS first and prints a warning into its output.
 */
function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  return url.toString();
}

async function createPGliteDatabase(opts: TestDatabaseOptions): Promise<TestDatabase> {
  const db = await PGlite.create();
  if (!opts.empty) {
    await db.exec(readFileSync(bootstrapFile, "utf8"));
    for (const file of listMigrationFiles()) {
      const text = readFileSync(file, "utf8");
      await db.transaction((tx) => tx.exec(text));
    }
  }

  const server = await startPGliteServer(db);
  const sql = createSql(server.url, { max: 25 });
  return {
    url: server.url,
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
      await db.close();
    },
  };
}
