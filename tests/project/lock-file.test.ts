import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * The lock file holds every platform's build of the packages that ship native binaries, so
 * `npm install` on a fresh clone leaves it unchanged (git status clean), `npm ci` accepts it, and
 * a user on macOS, Windows or ARM Linux gets the binaries for their machine. The supabase CLI's
 * other-platform builds are recorded without integrity: the registry this project is developed
 * against does not serve them (404), the public one does.
 */
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages: Record<string, { version: string; optionalDependencies?: Record<string, string> }> =
  lock.packages;

describe("package-lock.json", () => {
  for (const parent of ["node_modules/deno", "node_modules/supabase"]) {
    it(`records every platform build ${parent.slice(13)} may need`, () => {
      const optional = packages[parent]?.optionalDependencies ?? {};
      expect(Object.keys(optional).length).toBeGreaterThanOrEqual(5);
      const missing = Object.entries(optional)
        .filter(([name, version]) => packages[`node_modules/${name}`]?.version !== version)
        .map(([name, version]) => `${name}@${version}`);
      expect(missing).toEqual([]);
    });
  }
});
