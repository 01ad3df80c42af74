/**
 * Deno tier: a Messenger conversation through the gateway. The provider sandbox delivers the
 * person's Messenger messages as signed `object: "page"` webhooks to meta-webhook; the AI answers
 * through the agent-worker and the Send API (the sandbox); the person shares their phone number
 * with a quick reply and the AI then answers from the session their SMS started; the sandbox's
 * delivery and read receipts (watermarks) move the reply on. Forged signatures are refused.
 */
import postgres from "postgres";
import { SandboxClient } from "../../../scripts/sandbox/client.ts";
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";
import { runMessengerDemo } from "../../../scripts/demo.ts";
import { converse } from "../../../scripts/sandbox/turn.ts";

function expect(ok: boolean, message: string) {
  if (!ok) throw new Error(message);
}

Deno.test("a Messenger conversation through the gateway, continued from SMS after the phone is shared", async (t) => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: ["sms-inbound", "meta-webhook", "agent-worker"],
    quiet: true,
  });
  const sql = postgres(stack.urls.db, { prepare: false, max: 1, onnotice: () => {} });
  const sandbox = new SandboxClient(stack.urls.sandbox);
  const target = {
    api: stack.urls.api,
    sandbox: stack.urls.sandbox,
    db: stack.urls.db,
    secretKey: stack.keys.secret,
  };
  try {
    await t.step("a forged signature is 401 and writes nothing", async () => {
      const res = await fetch(`${stack.urls.functions}/meta-webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00" },
        body: JSON.stringify({ object: "page", entry: [] }),
      });
      await res.body?.cancel();
      expect(res.status === 401, `forged signature answered ${res.status}`);
    });

    await t.step(
      "SMS, then Messenger → shares phone → asks: answered from one session",
      async () => {
        const phone = "+250788000222";
        const sms = await converse(sandbox, {
          channel: "sms",
          from: phone,
          text: "change the price to 250k",
        }, { log: () => {} });
        expect(Boolean(sms.reply?.body.includes("250k")), `SMS reply: ${sms.reply?.body}`);

        const result = await runMessengerDemo(target, phone);
        expect(result.reply.channel === "messenger", `reply channel ${result.reply.channel}`);
        expect(result.reply.body.includes("250k"), `Messenger reply: ${result.reply.body}`);
        const sent = JSON.parse(result.reply.request_body);
        expect(sent.messaging_type === "RESPONSE", `messaging_type ${sent.messaging_type}`);
        expect(!/[*_`#]/.test(sent.message.text), `markdown in ${sent.message.text}`);
        const channels = new Set(result.rows.map((r) => r.channel));
        expect(channels.has("sms") && channels.has("messenger"), `channels ${[...channels]}`);
        const actions = await stack.sandbox.messages({ channel: "messenger" });
        expect(actions.length >= 3, `Messenger replies: ${actions.length}`);
      },
    );
  } finally {
    await sql.end();
    await stack.stop();
  }
});
