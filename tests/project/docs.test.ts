import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const configSource = readFileSync("supabase/functions/_shared/config.ts", "utf8");
const variables = [...configSource.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);

describe("docs move with the code", () => {
  it("finds the variables in config.ts (guards this test itself)", () => {
    expect(variables).toContain("WHATSAPP_ACCESS_TOKEN");
    expect(variables.length).toBeGreaterThan(30);
  });

  it("documents every environment variable in docs/configuration.md", () => {
    const doc = readFileSync("docs/configuration.md", "utf8");
    expect(variables.filter((v) => !doc.includes(`\`${v}\``))).toEqual([]);
  });

  it("lists every custom variable in supabase/functions/.env.example", () => {
    const example = readFileSync("supabase/functions/.env.example", "utf8");
    const custom = variables.filter((v) => !v.startsWith("SUPABASE_") && v !== "LOCAL_SANDBOX_URL");
    expect(custom.filter((v) => !new RegExp(`^${v}=`, "m").test(example))).toEqual([]);
  });

  it("documents every npm script in the README", () => {
    const readme = readFileSync("README.md", "utf8");
    const scripts = Object.keys(JSON.parse(readFileSync("package.json", "utf8")).scripts)
      .filter((s) => !s.includes(":") || s.startsWith("db:"));
    expect(
      scripts.filter((s) =>
        !readme.includes(s === "start" || s === "test" ? `npm ${s}` : `npm run ${s}`)
      ),
    )
      .toEqual([]);
  });
});
