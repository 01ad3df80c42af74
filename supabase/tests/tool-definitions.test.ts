import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getToolDefinitions } from "../functions/_shared/tools/schemas.ts";
import { createTestDatabase, listMigrationFiles, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("stored agent configuration", () => {
  it("stores exactly the tool definitions the code validates with", async () => {
    const stored = await db.sql`
      select name, description, parameters from public.agent_tool_definitions where enabled order by name`;
    // If this fails after a schema change: npm run db:tools-migration
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
    const file = listMigrationFiles().find((f) => f.endsWith("_call_center_omnichannel_tools.sql"))!;
    const seed = readFileSync(file, "utf8").split("-- BEGIN GENERATED: tool definitions")[1];
    await db.sql`update public.agent_tool_definitions set enabled = false where name = 'messaging_send_sms'`;
    await db.sql.unsafe(seed);
    const [row] = await db.sql`select enabled from public.agent_tool_definitions where name = 'messaging_send_sms'`;
    expect(row.enabled).toBe(false);
  });
});
