/**
 * Test database harness.
 *
 * The migrations are applied ONCE per test run, into a template built by the db and e2e tiers'
 * globalSetup (tests/support/global-setup.ts, which also removes it at the end), and
 * `createTestDatabase()` gives each caller a fresh clone of it and a postgres.js client:
 * - with DATABASE_URL (a real PostgreSQL): a new database created from the template database,
 *   dropped on close;
 * - otherwise: an in-memory PGlite loaded from the template's data directory (a tarball from
 *   `dumpDataDir`), served over the Postgres wire protocol (scripts/lib/pglite-server.ts), so
 *   code under test connects with postgres.js through `url` exactly as in production.
 *
 * Migrations are applied by executing each file in order in its own transaction, which is what
 * the Supabase CLI does and is much faster than spawning it; the CLI path itself is covered by
 * supabase/tests/cli-push.test.ts.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { inject } from "vitest";
import { startPGliteServer } from "../../scripts/lib/pglite-server.ts";
import { pgliteExtensions } from "../../scripts/lib/pglite-extensions.ts";
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
  /** A template from buildTemplate, for callers outside vitest (`npm run fuzz`). */
  template?: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The migrated template: a PGlite data-dir tarball's path, or a PostgreSQL database name. */
    dbTemplate: string;
  }
}

export function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  const template = opts.empty ? undefined : opts.template ?? migratedTemplate();
  return serverUrl ? createPostgresDatabase(serverUrl, template) : createPGliteDatabase(template);
}

function migratedTemplate(): string {
  const template = inject("dbTemplate");
  if (!template) {
    throw new Error(
      "no migrated template database: run this test file in the db or e2e tier (vitest.config.ts)",
    );
  }
  return template;
}

/** A short hash of the bootstrap and migrations, so a template is never mistaken for another. */
function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of [bootstrapFile, ...listMigrationFiles()]) hash.update(readFileSync(file));
  return hash.digest("hex").slice(0, 12);
}

let counter = 0;

async function createPostgresDatabase(
  serverUrl: string,
  template = "template0",
): Promise<TestDatabase> {
  const admin = createSql(serverUrl, { max: 1 });
  try {
    const name = `omni_t_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.unsafe(`create database "${name}" template "${template}"`);
    const url = withDatabase(serverUrl, name);
    // What the functions use by default (DB_PREPARE=auto): prepared statements on a direct URL.
    const sql = createSql(url, { max: 25, prepare: "auto" });
    return {
      url,
      sql,
      async close() {
        await sql.end({ timeout: 5 });
        await dropDatabase(serverUrl, name);
      },
    };
  } finally {
    await admin.end({ timeout: 5 });
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const dropper = createSql(serverUrl, { max: 1 });
  try {
    await dropper.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await dropper.end({ timeout: 5 });
  }
}

/**
 * A migrated template for this test run (`runId`: the vitest main process), built once and
 * removed by the returned function. On PostgreSQL a database named after the run, so parallel
 * runs on one server (other checkouts, other migrations) never share or drop each other's.
 */
export function buildTemplate(
  runId: number,
): Promise<{ template: string; remove(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  return serverUrl ? buildPostgresTemplate(serverUrl, runId) : buildPGliteTemplate(runId);
}

async function buildPostgresTemplate(serverUrl: string, runId: number) {
  // Not omni_tpl_*: older copies of this harness drop those as stale while another run clones them.
  const template = `omni_template_${runId}_${migrationsHash()}`;
  const admin = createSql(serverUrl, { max: 1 });
  try {
    await admin.unsafe(`drop database if exists "${template}" with (force)`);
    await admin.unsafe(`create database "${template}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const remove = () => dropDatabase(serverUrl, template);
  const db = createSql(withDatabase(serverUrl, template), { max: 1 });
  try {
    await applyBootstrap(db);
    await applyMigrations(db);
  } catch (err) {
    await db.end({ timeout: 5 });
    await remove(); // a half-migrated template must not outlive the failed run
    throw err;
  }
  await db.end({ timeout: 5 });
  return { template, remove };
}

async function buildPGliteTemplate(runId: number) {
  const template = join(tmpdir(), `omni-pglite-${runId}-${migrationsHash()}.tar`);
  const db = await PGlite.create({ extensions: pgliteExtensions });
  try {
    await db.exec(readFileSync(bootstrapFile, "utf8"));
    for (const file of listMigrationFiles()) {
      const text = readFileSync(file, "utf8");
      await db.transaction((tx) => tx.exec(text));
    }
    // Uncompressed: every test file loads it, and gunzip would cost more than the bytes saved.
    const dump = await db.dumpDataDir("none");
    writeFileSync(template, new Uint8Array(await dump.arrayBuffer()));
  } finally {
    await db.close();
  }
  return { template, remove: () => Promise.resolve(rmSync(template, { force: true })) };
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

async function createPGliteDatabase(template?: string): Promise<TestDatabase> {
  const db = template
    ? await PGlite.create({
      loadDataDir: new Blob([readFileSync(template)]),
      extensions: pgliteExtensions,
    })
    : await PGlite.create({ extensions: pgliteExtensions });
  const server = await startPGliteServer(db);
  const sql = createSql(server.url, { max: 25, prepare: "auto" });
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
