/**
 * The layout docs/architecture.md describes: each function's index.ts only hands its factory to
 * the runtime seam, and everything else of it lives in _shared/<name>/ (main.ts, handler.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const functions = readdirSync("supabase/functions", { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_") && d.name !== "tests")
  .map((d) => d.name);

describe("one folder per function", () => {
  it("has functions to check", () => {
    expect(functions).toContain("wa-webhook");
  });

  it("each index.ts is serve(<its factory>) from _runtime/serve.ts, nothing else", () => {
    for (const name of functions) {
      const code = readFileSync(`supabase/functions/${name}/index.ts`, "utf8").trim().split("\n");
      expect({ name, code }).toEqual({
        name,
        code: [
          'import { serve } from "../_runtime/serve.ts";',
          expect.stringMatching(
            new RegExp(`^import \\{ \\w+ \\} from "\\.\\./_shared/${name}/main\\.ts";$`),
          ),
          "",
          expect.stringMatching(/^serve\(\w+\);$/),
        ],
      });
    }
  });

  it("each function's handler and factory live in _shared/<name>/", () => {
    for (const name of functions) {
      for (const file of ["main.ts", "handler.ts"]) {
        expect({ name, file, exists: existsSync(`supabase/functions/_shared/${name}/${file}`) })
          .toEqual({ name, file, exists: true });
      }
    }
    // (git may leave the emptied folder behind in an old checkout; no file may be in it.)
    const handlers = "supabase/functions/_shared/handlers";
    expect(existsSync(handlers) ? readdirSync(handlers) : []).toEqual([]);
  });

  it("only _runtime/ touches Deno.serve and EdgeRuntime", () => {
    const offenders = functions.filter((name) =>
      /Deno\.serve|EdgeRuntime/.test(readFileSync(`supabase/functions/${name}/index.ts`, "utf8"))
    );
    expect(offenders).toEqual([]);
  });
});
