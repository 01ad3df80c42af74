/**
 * Writes supabase/functions/_shared/db/migrations.manifest.ts from supabase/migrations/.
 * `--check` writes nothing and exits 1 when the committed manifest is stale.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MANIFEST_PATH, renderManifest } from "./lib/migrations-manifest.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const files: string[] = [];
for await (const entry of Deno.readDir(join(root, "supabase/migrations"))) {
  if (entry.isFile) files.push(entry.name);
}
const wanted = renderManifest(files);
const target = join(root, MANIFEST_PATH);
const current = await Deno.readTextFile(target).catch(() => "");

if (Deno.args.includes("--check")) {
  if (current !== wanted) {
    console.error(`${MANIFEST_PATH} is stale: run npm run db:manifest`);
    Deno.exit(1);
  }
  console.log(`${MANIFEST_PATH} is current`);
} else if (current !== wanted) {
  await Deno.writeTextFile(target, wanted);
  console.log(`wrote ${MANIFEST_PATH}`);
} else {
  console.log(`${MANIFEST_PATH} already current`);
}
