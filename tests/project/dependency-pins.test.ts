import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const deno = JSON.parse(readFileSync("deno.json", "utf8"));
const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };

describe("dependency pins", () => {
  it("pins every package.json dependency to an exact version", () => {
    const loose = Object.entries(pinned).filter(([, v]) => !/^\d+\.\d+\.\d+$/.test(v));
    expect(loose).toEqual([]);
  });

  it("maps every deno.json import to an npm: specifier at the package.json version", () => {
    const drift: string[] = [];
    for (const [alias, target] of Object.entries<string>(deno.imports)) {
      const m = target.match(/^npm:((?:@[^/]+\/)?[^@/]+)@([^/]+)(\/.*)?$/);
      if (!m) {
        drift.push(`${alias}: ${target} is not an npm: specifier`);
        continue;
      }
      const [, name, version] = m;
      if (pinned[name] !== version) {
        drift.push(`${alias}: deno.json ${version} vs package.json ${pinned[name] ?? "(missing)"}`);
      }
    }
    expect(drift).toEqual([]);
  });

  it("maps every runtime dependency in deno.json, so edge functions resolve them", () => {
    const mapped = new Set(
      Object.values<string>(deno.imports).map((t) => t.match(/^npm:((?:@[^/]+\/)?[^@/]+)@/)?.[1]),
    );
    const missing = Object.keys(pkg.dependencies).filter((d) => !mapped.has(d));
    expect(missing).toEqual([]);
  });

  it("uses no URL imports anywhere in deno.json", () => {
    expect(JSON.stringify(deno.imports)).not.toMatch(/https?:\/\//);
  });
});
