/**
 * Writes the tool-definition block of the call-center migration from the zod schemas in
 * supabase/functions/_shared/tools/schemas.ts, so the definitions stored in the database are the
 * ones the code validates with. Run after changing a tool schema:
 *
 *   deno run -A scripts/gen-tools-migration.ts          (npm run db:tools-migration)
 *
 * Only the block between the BEGIN/END GENERATED markers changes; the migration file is
 * committed. supabase/tests/tool-definitions.test.ts fails when the two disagree.
 */
import { getToolDefinitions, type ToolDefinition } from "../supabase/functions/_shared/tools/schemas.ts";

const migration = new URL(
  "../supabase/migrations/20261122010100_call_center_omnichannel_tools.sql",
  import.meta.url,
);
const BEGIN = "-- BEGIN GENERATED: tool definitions\n";
const END = "-- END GENERATED: tool definitions";

export function renderToolDefinitionsSql(definitions: ToolDefinition[]): string {
  const rows = definitions.map((d) =>
    `  (${quote(d.name)},\n   ${quote(d.description)},\n   ${dollarQuote(JSON.stringify(d.parameters, null, 2))}::jsonb)`
  );
  return [
    "insert into public.agent_tool_definitions (name, description, parameters)",
    "values",
    rows.join(",\n"),
    "on conflict (name) do update",
    "  set description = excluded.description, parameters = excluded.parameters;",
    "",
  ].join("\n");
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function dollarQuote(text: string): string {
  if (text.includes("$json$")) throw new Error("tool schema contains the $json$ delimiter");
  return `$json$\n${text}\n$json$`;
}

if (import.meta.main) {
  const text = await Deno.readTextFile(migration);
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`generated-block markers not found in ${migration}`);
  const updated = text.slice(0, start + BEGIN.length) + renderToolDefinitionsSql(getToolDefinitions()) +
    text.slice(end);
  if (updated === text) {
    console.log("tool definitions: up to date");
  } else {
    await Deno.writeTextFile(migration, updated);
    console.log(`tool definitions: wrote ${getToolDefinitions().length} tools to ${migration.pathname}`);
  }
}
