import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getToolDefinitions } from "../functions/_shared/tools/schemas.ts";
import {
  createTestDatabase,
  listMigrationFiles,
  type TestDatabase,
} from "../../tests/support/db.ts";
import {
  latestToolDefinitionsBlock,
  nextMigrationVersion,
  renderToolDefinitionsMigration,
  renderToolDefinitionsSql,
} from "../../scripts/lib/tool-definitions-sql.ts";

const migrations = () =>
  listMigrationFiles().map((file) => ({ name: file, text: readFileSync(file, "utf8") }));

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("stored agent configuration", () => {
  it("stores exactly the tool definitions the code validates with", async () => {
    const stored = await db.sql`
      select name, description, parameters from public.agent_tool_definitions where enabled order by name`;
    // If this fails after a schema change: npm run db:tools-migration (adds a new migration)
    expect(stored.map((row) => ({ ...row }))).toEqual(getToolDefinitions());
  });

  it("stores the call-center instructions with the post-call summary rules", async () => {
    const [row] = await db.sql`
      select instructions from public.agent_instructions where agent_key = 'call_center'`;
    expect(row.instructions).toMatch(/WhatsApp AND by SMS/);
    expect(row.instructions).toMatch(/Never add facts/);
    expect(row.instructions).toMatch(/session_add_context/);
    for (const { name } of getToolDefinitions()) expect(row.instructions).toContain(name);
  });

  it("re-applying the seed keeps an operator's choice to disable a tool", async () => {
    const seed = latestToolDefinitionsBlock(migrations())!;
    await db
      .sql`update public.agent_tool_definitions set enabled = false where name = 'messaging_send_sms'`;
    await db.sql.unsafe(seed);
    const [row] = await db
      .sql`select enabled from public.agent_tool_definitions where name = 'messaging_send_sms'`;
    expect(row.enabled).toBe(false);
  });
});

describe("tool-definition migrations (append-only)", () => {
  it("the newest generated block is the code's definitions (else: npm run db:tools-migration)", () => {
    expect(latestToolDefinitionsBlock(migrations())).toBe(
      renderToolDefinitionsSql(getToolDefinitions()),
    );
  });

  it("a changed definition goes into a new migration whose block then is the one in force", () => {
    const changed = getToolDefinitions().map((d) => ({
      ...d,
      description: `${d.description} (v2)`,
    }));
    const last = migrations().map((m) => m.name.split("/").at(-1)!.slice(0, 14)).sort().at(-1)!;
    const version = nextMigrationVersion(new Date(), last);
    expect(version > last).toBe(true);
    const added = {
      name: `${version}_tool_definitions.sql`,
      text: renderToolDefinitionsMigration(changed),
    };
    // Names sort by version whatever the directory: compare base names only.
    const all = [...migrations().map((m) => ({ ...m, name: m.name.split("/").at(-1)! })), added];
    expect(latestToolDefinitionsBlock(all)).toBe(renderToolDefinitionsSql(changed));
  });

  it("numbers a new migration after the last one even when the clock is behind", () => {
    expect(nextMigrationVersion(new Date("2026-01-01T00:00:00Z"), "20261129120000")).toBe(
      "20261129120001",
    );
    expect(nextMigrationVersion(new Date("2027-02-03T04:05:06Z"), "20261129120000")).toBe(
      "20270203040506",
    );
  });
});
