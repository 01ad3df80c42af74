/**
 * Stores changed tool definitions (supabase/functions/_shared/tools/schemas.ts) in the database
 * through a NEW migration: migrations are append-only (supabase/migrations.lock), so the
 * definitions are never rewritten in place. Run after changing a tool schema:
 *
 *   deno run -A scripts/gen-tools-migration.ts          (npm run db:tools-migration)
 *
 * Compares the zod schemas with the newest generated block in supabase/migrations/ and, when
 * they differ, writes `<now>_tool_definitions.sql`; then run `npm run db:lock`,
 * `npm run db:manifest`, `npm run db:schema`. supabase/tests/tool-definitions.test.ts fails
 * until you do.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getToolDefinitions } from "../supabase/functions/_shared/tools/schemas.ts";
import {
  latestToolDefinitionsBlock,
  nextMigrationVersion,
  renderToolDefinitionsMigration,
  renderToolDefinitionsSql,
} from "./lib/tool-definitions-sql.ts";

const dir = fileURLToPath(new URL("../supabase/migrations/", import.meta.url));
const migrations: { name: string; text: string }[] = [];
for await (const entry of Deno.readDir(dir)) {
  if (entry.isFile && /^\d{14}_.+\.sql$/.test(entry.name)) {
    migrations.push({ name: entry.name, text: await Deno.readTextFile(join(dir, entry.name)) });
  }
}
const definitions = getToolDefinitions();

if (latestToolDefinitionsBlock(migrations) === renderToolDefinitionsSql(definitions)) {
  console.log("tool definitions: up to date");
} else {
  const last = migrations.map((m) => m.name.slice(0, 14)).sort().at(-1) ?? "0";
  const file = join(dir, `${nextMigrationVersion(new Date(), last)}_tool_definitions.sql`);
  await Deno.writeTextFile(file, renderToolDefinitionsMigration(definitions));
  console.log(`tool definitions: wrote ${definitions.length} tools to ${file}`);
  console.log("now run: npm run db:lock && npm run db:manifest && npm run db:schema");
}
