/**
 * Deno tier: the `messages` function under Deno through the gateway, with the provider sandbox:
 * the templates the stack synced from the sandbox's `GET /{waba-id}/message_templates`, a
 * template message sent with auto routing and its status history moving with the sandbox's
 * callbacks, a paused template refused, a notification kind, and the stats endpoint.
 */
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";

function expect(ok: boolean, message: string) {
  if (!ok) throw new Error(message);
}

async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test("the messaging API through the gateway, on the sandbox", async (t) => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: ["messages", "wa-webhook"],
    quiet: true,
  });
  const base = `${stack.urls.functions}/messages`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { apikey: stack.keys.secret, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  try {
    await t.step("the stack synced the sandbox's WhatsApp templates", async () => {
      const { json } = await eventually(
        () => call("GET", "/templates?channel=whatsapp"),
        (r) => r.json.templates?.length >= 5,
        "the template sync",
      );
      const delayed = json.templates.find((x: { name: string }) => x.name === "order_delayed");
      expect(delayed?.status === "paused", `order_delayed: ${JSON.stringify(delayed)}`);
    });

    await t.step("a template message goes out and its history follows the callbacks", async () => {
      const sent = await call("POST", "", {
        to: { phone: "+250788123456" },
        template: { name: "order_shipped", locale: "en", params: ["A-17", "https://t.example"] },
        idempotency_key: "deno-A-17",
      });
      expect(sent.status === 202, `POST /messages: ${JSON.stringify(sent)}`);
      const again = await call("POST", "", {
        to: { phone: "+250788123456" },
        template: { name: "order_shipped", locale: "en", params: ["A-17", "https://t.example"] },
        idempotency_key: "deno-A-17",
      });
      expect(again.json.id === sent.json.id, "a repeat answers the same message");
      const message = await eventually(
        () => call("GET", `/${sent.json.id}`),
        (r) => r.json.status === "read",
        "the status callbacks",
      );
      const history = message.json.steps[0].history.map((h: { status: string }) => h.status);
      expect(
        JSON.stringify(history) === JSON.stringify(["queued", "sent", "delivered", "read"]),
        `history: ${history}`,
      );
      const wa = await stack.sandbox.messages({ provider: "whatsapp" });
      expect(wa.length === 1, `the sandbox got ${wa.length} WhatsApp messages`);
    });

    await t.step("a paused template is refused before any HTTP call", async () => {
      const refused = await call("POST", "", {
        to: { phone: "+250788123457" },
        channel: "whatsapp",
        template: { name: "order_delayed", locale: "en", params: ["A-18"] },
        idempotency_key: "deno-A-18",
      });
      expect(
        refused.status === 422 && refused.json.error.code === "TEMPLATE.NOT_APPROVED",
        JSON.stringify(refused),
      );
    });

    await t.step("order.delivered and the stats", async () => {
      const n = await call("POST", "/notifications/order.delivered", {
        to: { phone: "+250788123458" },
        data: { order_id: "A-19" },
        idempotency_key: "deno-A-19",
      });
      expect(n.status === 202, JSON.stringify(n));
      const to = new Date(Date.now() + 60_000).toISOString();
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const stats = await call("GET", `/stats?from=${from}&to=${to}`);
      expect(stats.status === 200 && stats.json.channels.length >= 1, JSON.stringify(stats));
    });
  } finally {
    await stack.stop();
  }
});
