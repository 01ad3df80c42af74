/**
 * Adds the sha256 of each new migration to supabase/migrations.lock. Refuses (exit 1) when a
 * locked migration was edited or removed: committed migrations are append-only.
 *
 *   deno run -A scripts/lock-migrations.ts            (npm run db:lock)
 *   deno run -A scripts/lock-migrations.ts --check    (exit 1 unless every file is locked as is)
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkMigrationLock,
  hashMigrations,
  LOCK_PATH,
  lockMigrations,
  MIGRATIONS_DIR,
  parseLock,
  renderLock,
} from "./lib/migrations-lock.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const lockFile = join(root, LOCK_PATH);
const files = hashMigrations(join(root, MIGRATIONS_DIR));
const lock = parseLock(await Deno.readTextFile(lockFile).catch(() => ""));

try {
  if (Deno.args.includes("--check")) {
    const problems = checkMigrationLock(files, lock);
    if (problems.length > 0) throw new Error(problems.join("\n"));
    console.log(`${LOCK_PATH}: all ${files.size} migrations locked`);
  } else {
    const updated = lockMigrations(files, lock);
    const added = updated.size - lock.size;
    if (added > 0) await Deno.writeTextFile(lockFile, renderLock(updated));
    console.log(`${LOCK_PATH}: ${added} added, ${lock.size} unchanged`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  Deno.exit(1);
}
