/**
 * Deno tier: boots the real stack (embedded database, Supabase CLI migrations, functions as Deno
 * processes behind the gateway) on free ports with a throwaway database, and drives it over HTTP.
 */
import { join } from "node:path";
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { ROOT, startStack } from "../../../scripts/stack/stack.ts";
import { EXPECTED_MIGRATIONS } from "../_shared/db/migrations.manifest.ts";

function assertEquals(actual: unknown, expected: unknown, what: string) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const alive = (pid: number) => Deno.stat(`/proc/${pid}`).then(() => true, () => false);

Deno.test("the stack serves health and enforces verify_jwt through the gateway", async (t) => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    functionsDirs: [join(ROOT, "supabase/functions"), join(ROOT, "tests/fixtures/functions")],
    only: ["health", "echo"],
    quiet: true,
  });
  const pids = stack.pids();
  try {
    await t.step("GET /functions/v1/health: database reachable, migrations current", async () => {
      const res = await fetch(`${stack.urls.functions}/health`);
      const body = await res.json();
      assertEquals(res.status, 200, "status");
      assertEquals(body.status, "ok", "health status");
      assertEquals(body.database.reachable, true, "database reachable");
      assertEquals(body.migrations.current, true, "migrations current");
      assertEquals(body.migrations.applied, EXPECTED_MIGRATIONS, "applied migrations");
      assertEquals(body.providers, {
        whatsapp: "sandbox",
        sms: "sandbox",
        openai: "sandbox",
        meta: "sandbox",
        genesys: "sandbox",
        email: "sandbox",
      }, "providers");
    });

    await t.step(
      "a verify_jwt function refuses a missing or forged JWT and accepts the anon key",
      async () => {
        const url = `${stack.urls.functions}/echo/sub?x=1`;
        const missing = await fetch(url, { method: "POST", body: "hi" });
        assertEquals([missing.status, await missing.json()], [401, {
          msg: "Error: Missing authorization header",
        }], "missing JWT");

        const forged = `${stack.keys.anon.slice(0, -4)}AAAA`;
        const bad = await fetch(url, { headers: { authorization: `Bearer ${forged}` } });
        assertEquals([bad.status, await bad.json()], [401, { msg: "Invalid JWT" }], "forged JWT");

        const ok = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${stack.keys.anon}` },
          body: "hello",
        });
        assertEquals([ok.status, await ok.json()], [200, {
          method: "POST",
          path: "/echo/sub?x=1",
          body: "hello",
        }], "anon key");
      },
    );

    await t.step("an unknown function is 404", async () => {
      const res = await fetch(`${stack.urls.functions}/nope`);
      await res.body?.cancel();
      assertEquals(res.status, 404, "unknown function");
    });
  } finally {
    await stack.stop();
  }
  for (const pid of pids) {
    assertEquals(await alive(pid), false, `function process ${pid} after stop`);
  }
});
