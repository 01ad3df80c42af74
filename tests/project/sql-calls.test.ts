/**
 * Issue 9 §2: the functions call SQL functions only through the typed `rpc`/`rpcValue` helper
 * (supabase/functions/_shared/db/rpc.ts), by name with named arguments, so a renamed or retyped
 * SQL argument is a type error instead of a wrong positional value at run time. This scans the
 * functions' code for `public.<function>(` — any SQL function the generated types know — outside
 * comments, tests and rpc.ts itself. It also keeps SQLSTATEs in db/errors.ts, where each has a name.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["supabase/functions/_shared", "supabase/functions/_runtime"];
const EXEMPT = new Set([
  "supabase/functions/_shared/db/rpc.ts",
  "supabase/functions/_shared/db/database.types.ts",
]);

/** Every SQL function of the public schema, from the generated types (`npm run db:types`). */
function sqlFunctionNames(): Set<string> {
  const types = readFileSync("supabase/functions/_shared/db/database.types.ts", "utf8");
  const functions = types.slice(types.indexOf("Functions:"), types.indexOf("Enums:"));
  return new Set([...functions.matchAll(/^\s*"?([a-z_][a-z0-9_]*)"?:\s*$/gm)].map((m) => m[1]));
}

/** `public.<fn>(` calls of known SQL functions in code, comments removed. */
export function rawCalls(source: string, functions: Set<string>): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  return [...code.matchAll(/\bpublic\s*\.\s*([a-z_][a-z0-9_]*)\s*\(/g)]
    .map((m) => m[1])
    .filter((name) => functions.has(name));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("SQL functions are called only through the typed rpc helper", () => {
  const functions = sqlFunctionNames();

  it("knows the SQL functions from the generated types", () => {
    expect(functions.size).toBeGreaterThan(20);
    for (
      const name of [
        "record_inbound_message",
        "get_or_create_omnichannel_session",
        "claim_delivery",
      ]
    ) {
      expect(functions).toContain(name);
    }
  });

  it("finds a raw call in a template string, and not a table or a comment", () => {
    const sample = [
      "// select public.claim_delivery(id) in a comment",
      "/** `select public.release_deliveries(ids)` */",
      "const rows = await sql`select * from public.record_inbound_message(${a}, ${b})`;",
      "await sql`insert into public.call_summaries (call_id) values (${id})`;",
      "await sql`select public.claim_inbound_reply(",
      "  ${id}, 120) as claimed`;",
    ].join("\n");
    expect(rawCalls(sample, functions)).toEqual(["record_inbound_message", "claim_inbound_reply"]);
  });

  it("finds none in the functions' code", () => {
    const offenders = ROOTS.flatMap(sourceFiles)
      .filter((file) => !EXEMPT.has(file))
      .flatMap((file) =>
        rawCalls(readFileSync(file, "utf8"), functions).map((fn) => `${file}: public.${fn}(`)
      );
    expect(offenders, "call these through rpc()/rpcValue() from _shared/db/rpc.ts").toEqual([]);
  });
});

/** A SQLSTATE in a string literal: five characters of the classes the code could react to. */
const SQLSTATE = /["'`](?:P0|23|40|42|22|53|55|57|08)[0-9A-Z]{3}["'`]/g;

describe("SQLSTATEs are named only in db/errors.ts", () => {
  it("finds a raw SQLSTATE comparison", () => {
    expect('if (err.code === "23505") return conflict;'.match(SQLSTATE)).toEqual(['"23505"']);
  });

  it("finds none elsewhere in the functions' code", () => {
    const offenders = ROOTS.flatMap(sourceFiles)
      .filter((file) => file !== "supabase/functions/_shared/db/errors.ts" && !EXEMPT.has(file))
      .flatMap((file) =>
        (readFileSync(file, "utf8").match(SQLSTATE) ?? []).map((code) => `${file}: ${code}`)
      );
    expect(offenders, "name it in _shared/db/errors.ts (isUniqueViolation, isNoDataFound, …)")
      .toEqual([]);
  });
});
