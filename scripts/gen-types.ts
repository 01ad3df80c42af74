/**
 * Regenerates supabase/functions/_shared/db/database.types.ts from the migrations:
 * a fresh database (an in-memory PGlite, or a new database on the PostgreSQL at DATABASE_URL),
 * the bootstrap, every migration applied by the Supabase CLI, then
 * `supabase gen types typescript --db-url` (no Docker needed with --db-url).
 *
 *   deno run -A scripts/gen-types.ts          (npm run db:types)
 *
 * supabase/tests/types-drift.test.ts fails when the committed file is out of date.
 */
import { PGlite } from "@electric-sql/pglite";
import { createSql } from "../supabase/functions/_shared/db/client.ts";
import { bootstrapDatabase } from "./bootstrap-db.ts";
import { startPGliteServer } from "./lib/pglite-server.ts";
import { pgliteExtensions } from "./lib/pglite-extensions.ts";

const root = new URL("../", import.meta.url);
const typesFile = new URL("supabase/functions/_shared/db/database.types.ts", root);

async function supabase(...args: string[]): Promise<string> {
  const out = await new Deno.Command("npx", {
    args: ["supabase", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`supabase ${args[0]} ${args[1]} failed:\n${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** A migrated database for the duration of `fn`. */
async function withMigratedDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = Deno.env.get("DATABASE_URL");
  if (serverUrl) {
    const name = `omni_gen_types_${Deno.pid}`;
    const admin = createSql(serverUrl, { max: 1 });
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    url.searchParams.set("sslmode", "disable");
    try {
      return await migrated(url.toString(), fn);
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    }
  }
  const db = await PGlite.create({ extensions: pgliteExtensions });
  const server = await startPGliteServer(db);
  try {
    return await migrated(server.url, fn);
  } finally {
    await server.stop();
    await db.close();
  }
}

async function migrated<T>(url: string, fn: (url: string) => Promise<T>): Promise<T> {
  await bootstrapDatabase(url);
  await supabase("db", "push", "--db-url", url, "--yes");
  return await fn(url);
}

if (import.meta.main) {
  const types = await withMigratedDatabase((url) =>
    supabase("gen", "types", "typescript", "--db-url", url)
  );
  await Deno.writeTextFile(typesFile, types);
  console.log(`wrote ${typesFile.pathname}`);
}
