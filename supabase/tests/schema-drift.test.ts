// supabase/schema/current.sql is what the migrations produce, on PGlite and on PostgreSQL.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpSchema, SCHEMA_PATH } from "../../scripts/lib/schema-dump.ts";
import { createTestDatabase, type TestDatabase } from "../../tests/support/db.ts";

const root = new URL("../../", import.meta.url);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("current schema", () => {
  it(`${SCHEMA_PATH} is the migrated database (run \`npm run db:schema\` after adding a migration)`, async () => {
    const dumped = await dumpSchema((text) => db.sql.unsafe(text));
    expect(dumped).toMatch(/^CREATE OR REPLACE FUNCTION public\.record_outbound_outcomes\(/m);
    expect(dumped).toMatch(/^create table public\.message_delivery_log \(/m);
    expect(
      dumped === readFileSync(new URL(SCHEMA_PATH, root), "utf8"),
      `${SCHEMA_PATH} is out of date`,
    ).toBe(true);
  });
});
