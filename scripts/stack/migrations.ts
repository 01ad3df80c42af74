import { join } from "node:path";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { migrationIds } from "../lib/migrations-manifest.ts";
import { readLines } from "./lines.ts";
import { parsePushLine, withSslDisabled } from "./push-output.ts";

export class MigrationError extends Error {
  constructor(readonly output: string) {
    super(`supabase db push failed:\n${output}`);
    this.name = "MigrationError";
  }
}

export interface PushResult {
  applied: string[];
  upToDate: boolean;
  /** Nothing was pending, so the CLI was not started. */
  cliSkipped?: boolean;
}

/**
 * How many local migrations the database has not recorded yet: the "N" of "migrations n/N".
 * The CLI announces it too, but not in every mode, so it is counted here, as the CLI does (by
 * version, against its supabase_migrations.schema_migrations).
 */
async function countPending(root: string, dbUrl: string): Promise<number> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, "supabase/migrations"))) files.push(entry.name);
  const sql = createSql(dbUrl, { max: 1 });
  try {
    const [{ recorded }] = await sql<{ recorded: boolean }[]>`
      select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as recorded`;
    const applied = new Set(
      recorded
        ? (await sql<
          { version: string }[]
        >`select version from supabase_migrations.schema_migrations`)
          .map((r) => r.version)
        : [],
    );
    return migrationIds(files).filter((id) => !applied.has(id.slice(0, 14))).length;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/**
 * Applies supabase/migrations with the real Supabase CLI (`supabase db push`), so what runs
 * locally is what runs in production, reporting each migration as the CLI starts it. When the
 * database already records every local migration version, the CLI is not started.
 */
export async function pushMigrations(opts: {
  root: string;
  dbUrl: string;
  onProgress: (n: number, total: number, migration: string) => void;
}): Promise<PushResult> {
  let total = await countPending(opts.root, opts.dbUrl);
  // Every local migration is recorded: the CLI would only say so (it also compares versions),
  // at the cost of starting it, about a second on a warm machine and several on a loaded one.
  if (total === 0) return { applied: [], upToDate: true, cliSkipped: true };
  const child = new Deno.Command(`${opts.root}/node_modules/.bin/supabase`, {
    args: ["db", "push", "--db-url", withSslDisabled(opts.dbUrl), "--yes"],
    cwd: opts.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const output: string[] = [];
  const applied: string[] = [];
  let upToDate = false;
  const onLine = (line: string) => {
    const event = parsePushLine(line);
    if (event.kind !== "noise") output.push(line);
    if (event.kind === "plan") total = event.total;
    else if (event.kind === "up-to-date") upToDate = true;
    else if (event.kind === "applying") {
      applied.push(event.migration);
      opts.onProgress(applied.length, Math.max(total, applied.length), event.migration);
    }
  };
  const [status] = await Promise.all([
    child.status,
    readLines(child.stdout, onLine),
    readLines(child.stderr, onLine),
  ]);
  if (!status.success) throw new MigrationError(output.join("\n"));
  return { applied, upToDate };
}
