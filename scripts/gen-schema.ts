/**
 * Writes supabase/schema/current.sql: the current definition of every table and SQL function,
 * dumped from an in-memory PGlite migrated with the bootstrap and every migration.
 *
 *   deno run -A scripts/gen-schema.ts           (npm run db:schema)
 *   deno run -A scripts/gen-schema.ts --check   (exit 1 when the committed file is stale)
 */
import { PGlite } from "@electric-sql/pglite";
import { pgliteExtensions } from "./lib/pglite-extensions.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashMigrations, MIGRATIONS_DIR } from "./lib/migrations-lock.ts";
import { dumpSchema, SCHEMA_PATH } from "./lib/schema-dump.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const db = await PGlite.create({ extensions: pgliteExtensions });
try {
  await db.exec(await Deno.readTextFile(join(root, "scripts/sql/bootstrap.sql")));
  for (const file of hashMigrations(join(root, MIGRATIONS_DIR)).keys()) {
    const text = await Deno.readTextFile(join(root, MIGRATIONS_DIR, file));
    await db.transaction((tx) => tx.exec(text));
  }
  const wanted = await dumpSchema(async (text) =>
    (await db.query<Record<string, unknown>>(text)).rows
  );
  const target = join(root, SCHEMA_PATH);
  const current = await Deno.readTextFile(target).catch(() => "");
  if (Deno.args.includes("--check")) {
    if (current !== wanted) {
      console.error(`${SCHEMA_PATH} is stale: run npm run db:schema`);
      Deno.exit(1);
    }
    console.log(`${SCHEMA_PATH} is current`);
  } else if (current !== wanted) {
    await Deno.mkdir(join(root, "supabase/schema"), { recursive: true });
    await Deno.writeTextFile(target, wanted);
    console.log(`wrote ${SCHEMA_PATH}`);
  } else {
    console.log(`${SCHEMA_PATH} already current`);
  }
} finally {
  await db.close();
}
