import { join } from "node:path";
import { createFunctionProcess, type FunctionProcess } from "./function-process.ts";
import type { FunctionSettings } from "./functions-config.ts";

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

/**
 * Starts every function found (or the `only` ones), each as its own process, and waits until
 * each answers. One that fails to boot fails only its own requests (503, retried on the next
 * one), as on Supabase; it is listed in `failed` and the others run.
 */
export async function startFunctions(opts: {
  root: string;
  dirs: string[];
  only?: string[];
  settings: (name: string) => FunctionSettings;
  env: Record<string, string>;
  log: (line: string) => void;
}): Promise<{
  functions: { name: string; verifyJwt: boolean }[];
  failed: string[];
  processes: Map<string, FunctionProcess>;
}> {
  const found = (await discoverFunctions(opts.dirs))
    .filter((f) => !opts.only || opts.only.includes(f.name));
  const processes = new Map(found.map((f) => [
    f.name,
    createFunctionProcess({
      name: f.name,
      entry: f.entry,
      root: opts.root,
      env: opts.env,
      log: opts.log,
    }),
  ]));
  const booted = await Promise.allSettled([...processes.values()].map((p) => p.origin()));
  return {
    functions: found.map((f) => ({ name: f.name, verifyJwt: opts.settings(f.name).verifyJwt })),
    failed: found.filter((_, i) => booted[i].status === "rejected").map((f) => f.name),
    processes,
  };
}
