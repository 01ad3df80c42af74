import { join } from "node:path";

export interface DiscoveredFunction {
  name: string;
  entry: string;
}

/**
 * Functions are the folders of each functions directory that have an index.ts; `_shared` and
 * `tests` (and any other `_`-prefixed folder) are not functions. A later directory cannot
 * redefine a name an earlier one has.
 */
export async function discoverFunctions(dirs: string[]): Promise<DiscoveredFunction[]> {
  const found = new Map<string, DiscoveredFunction>();
  for (const dir of dirs) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory || entry.name.startsWith("_") || entry.name === "tests") continue;
      names.push(entry.name);
    }
    for (const name of names.sort()) {
      const entry = join(dir, name, "index.ts");
      const exists = await Deno.stat(entry).then((s) => s.isFile, () => false);
      if (!exists) continue;
      if (found.has(name)) throw new Error(`function ${name} is defined twice (${dir})`);
      found.set(name, { name, entry });
    }
  }
  return [...found.values()];
}
