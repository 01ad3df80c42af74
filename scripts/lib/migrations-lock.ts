/**
 * The migrations lock: supabase/migrations.lock holds the sha256 of every committed migration,
 * one `<sha256>  <file>` line each (the `sha256sum` format, so
 * `cd supabase/migrations && sha256sum -c ../migrations.lock` checks it too).
 *
 * Migrations are append-only: after the first deploy `supabase db push` never re-reads an
 * applied file, so an edited migration makes production silently differ from a fresh database.
 * `lockMigrations` adds the hashes of new files and refuses to change or drop an existing one;
 * `checkMigrationLock` (supabase/tests/migrations-lock.test.ts) lists every disagreement.
 * Runtime-neutral (node: modules only) so the script (Deno) and the test (vitest) share it.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_PATH = "supabase/migrations.lock";
export const MIGRATIONS_DIR = "supabase/migrations";

export type Lock = Map<string, string>;

export function parseLock(text: string): Lock {
  const lock: Lock = new Map();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!match) throw new Error(`${LOCK_PATH}: malformed line ${JSON.stringify(line)}`);
    lock.set(match[2], match[1]);
  }
  return lock;
}

export function renderLock(lock: Lock): string {
  return [...lock.keys()].sort().map((file) => `${lock.get(file)}  ${file}\n`).join("");
}

/** The sha256 of every `<timestamp>_<name>.sql` file in `dir`, by file name. */
export function hashMigrations(dir: string): Lock {
  const hashes: Lock = new Map();
  for (const file of readdirSync(dir).filter((f) => /^\d{14}_.+\.sql$/.test(f)).sort()) {
    hashes.set(file, createHash("sha256").update(readFileSync(join(dir, file))).digest("hex"));
  }
  return hashes;
}

/** Every way the files disagree with the lock; empty when they agree. */
export function checkMigrationLock(files: Lock, lock: Lock): string[] {
  const problems: string[] = [];
  for (const [file, hash] of lock) {
    if (!files.has(file)) {
      problems.push(`${file} is locked but missing: committed migrations are never removed`);
    } else if (files.get(file) !== hash) {
      problems.push(
        `${file} was edited after it was locked: revert it and add a new migration instead`,
      );
    }
  }
  for (const file of files.keys()) {
    if (!lock.has(file)) problems.push(`${file} is not in ${LOCK_PATH}: run npm run db:lock`);
  }
  return problems;
}

/** The lock with the new files added; throws when a locked file was edited or removed. */
export function lockMigrations(files: Lock, lock: Lock): Lock {
  const refused = checkMigrationLock(files, lock).filter((p) => !p.endsWith("run npm run db:lock"));
  if (refused.length > 0) {
    throw new Error(`refusing to change ${LOCK_PATH}:\n  ${refused.join("\n  ")}`);
  }
  return new Map([...lock, ...[...files].filter(([file]) => !lock.has(file))]);
}
