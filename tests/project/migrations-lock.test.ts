// Migrations are append-only: every committed file's sha256 is in supabase/migrations.lock.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkMigrationLock,
  hashMigrations,
  type Lock,
  LOCK_PATH,
  lockMigrations,
  MIGRATIONS_DIR,
  parseLock,
  renderLock,
} from "../../scripts/lib/migrations-lock.ts";

const root = new URL("../../", import.meta.url).pathname;
const committedLock = () => parseLock(readFileSync(join(root, LOCK_PATH), "utf8"));

describe("migrations lock", () => {
  it("holds the hash of every committed migration, unchanged", () => {
    const files = hashMigrations(join(root, MIGRATIONS_DIR));
    expect(files.size).toBeGreaterThan(0);
    expect(checkMigrationLock(files, committedLock())).toEqual([]);
  });

  describe("on a copy of the migrations", () => {
    let dir: string;
    // The copy's own hashes: these cases hold whatever state the working tree is in.
    let locked: Lock;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "omni-lock-"));
      cpSync(join(root, MIGRATIONS_DIR), dir, { recursive: true });
      locked = hashMigrations(dir);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("fails when a committed migration is edited, and db:lock refuses to re-hash it", () => {
      const [first] = locked.keys();
      appendFileSync(join(dir, first), "\n-- a harmless-looking edit\n");
      const files = hashMigrations(dir);
      expect(checkMigrationLock(files, locked)).toEqual([
        `${first} was edited after it was locked: revert it and add a new migration instead`,
      ]);
      expect(() => lockMigrations(files, locked)).toThrow(
        /refusing to change .*was edited/s,
      );
    });

    it("fails when a committed migration is removed", () => {
      const [first] = locked.keys();
      rmSync(join(dir, first));
      expect(checkMigrationLock(hashMigrations(dir), locked)).toEqual([
        `${first} is locked but missing: committed migrations are never removed`,
      ]);
    });

    it("asks for db:lock on a new migration, which adds its hash and keeps the others", () => {
      writeFileSync(join(dir, "20991231000000_new.sql"), "select 1;\n");
      const files = hashMigrations(dir);
      expect(checkMigrationLock(files, locked)).toEqual([
        `20991231000000_new.sql is not in ${LOCK_PATH}: run npm run db:lock`,
      ]);
      const updated = lockMigrations(files, locked);
      expect(checkMigrationLock(files, updated)).toEqual([]);
      expect(renderLock(updated)).toContain(renderLock(locked).split("\n")[0]);
      expect(updated.size).toBe(locked.size + 1);
    });
  });
});
