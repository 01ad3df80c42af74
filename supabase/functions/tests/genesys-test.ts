/**
 * Deno tier: WhatsApp ↔ Genesys Cloud through the gateway, the functions run by Deno, the
 * sandbox playing WhatsApp and Genesys. The env number is routed to agents: a person's message
 * reaches Genesys (one OAuth token request), an agent answers through genesys-webhook signed as
 * Genesys signs, the person gets it on WhatsApp, and WhatsApp's statuses go back as receipts.
 * Files go both ways through the stack's own Storage API and arrive byte for byte.
 */
import { SandboxClient } from "../../../scripts/sandbox/client.ts";
import { MEDIA_FIXTURES } from "../../../scripts/sandbox/media.ts";
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";
import { runHandoffDemo } from "../../../scripts/demo.ts";

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
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** wa-webhook and genesys-webhook behind the gateway, the env number routed to agents. */
const agentStack = () =>
  startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: { ...runtimeOnly(Deno.env.toObject()), WHATSAPP_ROUTING: "agent" },
    dotenv: false,
    only: ["wa-webhook", "genesys-webhook"],
    quiet: true,
  });

Deno.test("a WhatsApp message routed to agents reaches Genesys; the agent's answer reaches WhatsApp", async () => {
  const stack = await agentStack();
  const sandbox = new SandboxClient(stack.urls.sandbox);
  const person = "+250788555010";
  try {
    const sent = await sandbox.inbound({
      channel: "whatsapp",
      from: person,
      text: "A human please",
      name: "Ada",
    });
    expect(sent.delivered === 200, `wa-webhook answered ${sent.delivered}`);
    const [toGenesys] = await eventually(
      () => sandbox.messages({ provider: "genesys" }),
      (l) => l.length > 0,
      "the message in Genesys",
    );
    const posted = JSON.parse(toGenesys.request_body);
    expect(
      posted.channel.from.id === person && posted.channel.from.idType === "Phone" &&
        posted.channel.from.nickname === "Ada" && posted.text === "A human please",
      `posted to Genesys: ${toGenesys.request_body}`,
    );
    expect(
      (await sandbox.messages({ provider: "whatsapp", to: person })).length === 0,
      "the AI answered a number routed to agents",
    );

    const reply = await sandbox.agentReply(person, "Hi Ada, Grace here.");
    expect(reply.status === 200, `genesys-webhook answered ${reply.status}: ${reply.answer}`);
    const [onWhatsApp] = await eventually(
      () => sandbox.messages({ provider: "whatsapp", to: person }),
      (l) => l.length > 0,
      "the agent's message on WhatsApp",
    );
    expect(onWhatsApp.body === "Hi Ada, Grace here.", `WhatsApp got: ${onWhatsApp.body}`);

    // The sandbox's WhatsApp status callbacks (delivered, read) come back to Genesys as receipts.
    const receipts = await eventually(
      async () =>
        (await sandbox.messages({ provider: "genesys" })).filter((m) =>
          m.body.startsWith("receipt")
        ),
      (l) => l.length >= 2,
      "the receipts in Genesys",
    );
    expect(
      receipts.map((r) => r.body).join(",") === "receipt Delivered,receipt Read",
      `receipts: ${receipts.map((r) => r.body)}`,
    );
    const state = await (await fetch(`${stack.urls.sandbox}/__sandbox/genesys`)).json();
    expect(state.token_requests === 1, `token requests: ${state.token_requests}`);
  } finally {
    await stack.stop();
  }
});

Deno.test("media both ways through the stack's Storage: same bytes at each end", async () => {
  const stack = await agentStack();
  const sandbox = new SandboxClient(stack.urls.sandbox);
  const control = async (path: string, body: unknown) =>
    await (await fetch(`${stack.urls.sandbox}/__sandbox/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })).json();
  const bytesOf = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const person = "+250788555020";
  try {
    const sent = await control("inbound", {
      channel: "whatsapp",
      from: person,
      text: "my receipt",
      media: { fixture: "photo.png" },
    });
    expect(sent.delivered === 200, `wa-webhook answered ${sent.delivered}`);
    const [toGenesys] = await eventually(
      () => sandbox.messages({ provider: "genesys" }),
      (l) => l.length > 0,
      "the image in Genesys",
    );
    const attachment = JSON.parse(toGenesys.request_body).content?.[0]?.attachment;
    expect(
      attachment?.mediaType === "Image" &&
        attachment.url.startsWith(`${stack.urls.api}/storage/v1/object/sign/media-inbound/`),
      `posted to Genesys: ${toGenesys.request_body}`,
    );
    const image = await bytesOf(attachment.url);
    expect(
      image.join() === MEDIA_FIXTURES["photo.png"].bytes.join(),
      "the signed URL gave other bytes",
    );

    const reply = await control("agent-reply", {
      to: person,
      text: "Your invoice",
      attachment: { fixture: "invoice.pdf" },
    });
    expect(reply.status === 200, `genesys-webhook answered ${reply.status}: ${reply.answer}`);
    const [onWhatsApp] = await eventually(
      () => sandbox.messages({ provider: "whatsapp", to: person }),
      (l) => l.length > 0,
      "the document on WhatsApp",
    );
    const media = JSON.parse(onWhatsApp.request_body).document;
    expect(
      media?.filename === "invoice.pdf" && media.caption === "Your invoice",
      `WhatsApp got: ${onWhatsApp.request_body}`,
    );
    const pdf = await bytesOf(media.link);
    expect(
      pdf.join() === MEDIA_FIXTURES["invoice.pdf"].bytes.join(),
      "the document link gave other bytes",
    );
  } finally {
    await stack.stop();
  }
});

Deno.test("ai_then_agent: the person asks for a human, the Genesys agent answers on WhatsApp, then hands back", async () => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: { ...runtimeOnly(Deno.env.toObject()), WHATSAPP_ROUTING: "ai_then_agent" },
    dotenv: false,
    only: ["wa-webhook", "genesys-webhook", "agent-worker"],
    quiet: true,
  });
  try {
    const result = await runHandoffDemo({
      api: stack.urls.api,
      sandbox: stack.urls.sandbox,
      db: stack.urls.db,
      secretKey: stack.keys.secret,
    }, "+250788555020");
    expect(result.handedOff, "the person was not handed to an agent");
    expect(result.handoff?.state === "closed", `handoff ${JSON.stringify(result.handoff)}`);
  } finally {
    await stack.stop();
  }
});
