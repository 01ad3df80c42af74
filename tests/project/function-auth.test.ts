/**
 * The per-function auth table and supabase/config.toml agree: every function declares who may
 * call it, and every function that verifies callers itself (all of them) has verify_jwt off, as
 * Supabase recommends with secret keys and JWT signing keys.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { FUNCTION_AUTH } from "../../supabase/functions/_shared/http/function-auth.ts";

const config = parse(readFileSync("supabase/config.toml", "utf8")) as {
  functions: Record<string, { verify_jwt?: boolean }>;
};
const deployed = readdirSync("supabase/functions", { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_") && d.name !== "tests")
  .map((d) => d.name)
  .sort();

describe("function auth table", () => {
  it("declares every deployed function, and only those", () => {
    expect(Object.keys(FUNCTION_AUTH).sort()).toEqual(deployed);
  });

  it("turns verify_jwt off for every function, since each verifies its callers itself", () => {
    for (const name of deployed) {
      expect({ name, verifyJwt: config.functions[name]?.verify_jwt }).toEqual({
        name,
        verifyJwt: false,
      });
    }
  });

  it("lets the internal functions be called with a secret key, never a publishable one", () => {
    for (
      const name of ["post-call-notify", "messaging-tools", "dispatch", "agent-worker"] as const
    ) {
      expect(FUNCTION_AUTH[name].modes).toContain("secret");
      expect(FUNCTION_AUTH[name].modes).not.toContain("publishable");
    }
  });
});
