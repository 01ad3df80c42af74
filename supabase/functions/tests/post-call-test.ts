/**
 * Deno tier: the demo path through the gateway — a call summary in the database,
 * `post-call-notify` invoked with supabase-js as a client would, both messages received by the
 * provider sandbox in their wire formats, the session and delivery log updated. The stack runs
 * with the new keys only (legacy keys disabled), as a project created today does.
 */
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";
import { runPostCallDemo } from "../../../scripts/demo.ts";

Deno.test("post-call-notify through the gateway delivers on WhatsApp and SMS (the demo path)", async () => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: ["post-call-notify"],
    legacyKeys: false,
    quiet: true,
  });
  try {
    await runPostCallDemo({
      api: stack.urls.api,
      sandbox: stack.urls.sandbox,
      db: stack.urls.db,
      secretKey: stack.keys.secret,
    });
    const received = await stack.sandbox.messages({});
    const channels = received.map((m) => m.channel).sort();
    if (JSON.stringify(channels) !== JSON.stringify(["sms", "whatsapp"])) {
      throw new Error(`sandbox received ${JSON.stringify(channels)}`);
    }

    const refused = {
      "publishable key": { apikey: stack.keys.publishable },
      "truncated secret key": { apikey: stack.keys.secret.slice(0, -2) },
      "legacy service_role key (disabled)": { authorization: `Bearer ${stack.keys.serviceRole}` },
      "legacy anon key": { authorization: `Bearer ${stack.keys.anon}` },
      "no key": {},
    };
    for (const [what, headers] of Object.entries(refused)) {
      const res = await fetch(`${stack.urls.functions}/post-call-notify`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ call_id: "x", phone_number: "+250788123456", summary: "s" }),
      });
      await res.body?.cancel();
      if (res.status !== 401) throw new Error(`${what} got ${res.status}, want 401`);
    }
  } finally {
    await stack.stop();
  }
});
