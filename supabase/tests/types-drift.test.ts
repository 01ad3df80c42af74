import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/db.ts";

const root = new URL("../../", import.meta.url);
const typesFile = new URL("supabase/functions/_shared/db/database.types.ts", root);
const cli = new URL("node_modules/.bin/supabase", root).pathname;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("generated database types", () => {
  it("match the migrations (run `npm run db:types` after changing a migration)", async () => {
    const { stdout } = await promisify(execFile)(
      cli,
      ["gen", "types", "typescript", "--db-url", db.url],
      { cwd: root.pathname, maxBuffer: 10 * 1024 * 1024 },
    );
    expect(stdout).toContain("omnichannel_sessions");
    expect(stdout === readFileSync(typesFile, "utf8"), "database.types.ts is out of date").toBe(
      true,
    );
  });
});
