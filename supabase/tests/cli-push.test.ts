import { execFile } from "node:child_process";
import { basename } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  listMigrationFiles,
  type TestDatabase,
} from "../../tests/support/db.ts";

/**
 * The path production takes: the real Supabase CLI applying every migration to an empty
 * database (PGlite over the wire protocol, or a fresh database on the PostgreSQL at
 * DATABASE_URL) after scripts/bootstrap-db.ts.
 */
const root = new URL("../../", import.meta.url).pathname;
const run = promisify(execFile);
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
});
afterAll(() => db?.close());

async function push(): Promise<string> {
  const { stdout, stderr } = await run(
    bin("supabase"),
    ["db", "push", "--db-url", db.url, "--yes"],
    {
      cwd: root,
    },
  );
  return stdout + stderr;
}

describe("supabase db push", () => {
  it("refuses to bootstrap a Supabase-hosted database", async () => {
    const url =
      "postgresql://postgres.ref:secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres";
    await expect(run(bin("deno"), ["run", "-A", "scripts/bootstrap-db.ts", url], { cwd: root }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("refusing to bootstrap") });
  });

  it("applies every migration after the bootstrap, then has nothing left to apply", async () => {
    await run(bin("deno"), ["run", "-A", "scripts/bootstrap-db.ts", db.url], { cwd: root });
    // The bootstrap is idempotent.
    await run(bin("deno"), ["run", "-A", "scripts/bootstrap-db.ts", db.url], { cwd: root });

    const first = await push();
    for (const file of listMigrationFiles()) {
      expect(first).toContain(`Applying migration ${basename(file)}`);
    }
    expect(first).toContain("Finished supabase db push");

    const versions = await db
      .sql`select version from supabase_migrations.schema_migrations order by version`;
    expect(versions.map((v) => v.version)).toEqual(
      listMigrationFiles().map((f) => basename(f).slice(0, 14)),
    );
    const [{ tools }] = await db
      .sql`select count(*)::int as tools from public.agent_tool_definitions`;
    expect(tools).toBe(8);

    const second = await push();
    expect(second).toContain("up to date");
    expect(second).not.toContain("Applying migration");
  });
});
