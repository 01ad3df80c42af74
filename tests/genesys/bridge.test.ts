/**
 * WhatsApp ↔ Genesys Cloud Open Messaging through the real wiring (the functions' factories,
 * built from an environment), with the provider sandbox playing WhatsApp and Genesys over HTTP.
 */
import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { agentMessage } from "../../scripts/sandbox/genesys.ts";
import { whatsappInbound } from "../../scripts/sandbox/inbound-payloads.ts";
import { whatsappStatus } from "../../scripts/sandbox/status-payloads.ts";
import { genesysSignature, metaSignature } from "../../scripts/sandbox/signing.ts";
import { SANDBOX_CREDENTIALS as C, sandboxDefaults } from "../../scripts/stack/sandbox-env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { waWebhook } from "../../supabase/functions/_shared/wa-webhook/main.ts";
import { genesysWebhook } from "../../supabase/functions/_shared/genesys-webhook/main.ts";
import { createGenesysTokens } from "../../supabase/functions/_shared/genesys/token.ts";
import { createAccountDirectory } from "../../supabase/functions/_shared/tenants/accounts.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let served: Served;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = createSandbox({ statusCallbacks: false });
  served = await serve(sandbox.handler);
});
afterAll(async () => {
  await sandbox?.close();
  await served?.close();
  await db?.close();
});
afterEach(() => {
  sandbox.messages.clear();
});

function envOf(vars: Record<string, string> = {}) {
  const d = sandboxDefaults(served.url);
  return loadConfig({
    SUPABASE_DB_URL: db.url,
    ...d.whatsapp,
    ...d.genesys,
    WHATSAPP_SUMMARY_TEMPLATE: "",
    OPENAI_BASE_URL: `${served.url}/openai/v1`,
    LOG_LEVEL: "error",
    WHATSAPP_ROUTING: "agent",
    ...vars,
  });
}

/** The two webhooks as one isolate runs them, and the work they leave for after the answer. */
function functions(vars: Record<string, string> = {}) {
  const env = envOf(vars);
  const background = backgroundTracker();
  return {
    wa: waWebhook({ env, waitUntil: background.waitUntil }),
    genesys: genesysWebhook({ env, waitUntil: background.waitUntil }),
    settled: background.settled,
  };
}

async function personWrites(
  fn: ReturnType<typeof functions>,
  from: string,
  text: string,
): Promise<Response> {
  const w = whatsappInbound({ from, text, name: "Ada", now: new Date() }, { ...C });
  return await fn.wa(
    new Request("http://localhost/wa-webhook", {
      method: "POST",
      headers: { "x-hub-signature-256": await metaSignature(C.whatsappAppSecret, w.body) },
      body: w.body,
    }),
  );
}

async function agentWrites(
  fn: ReturnType<typeof functions>,
  to: string,
  text: string,
  sign: (body: string) => Promise<string> = (b) => genesysSignature(C.genesysWebhookSecret, b),
) {
  const { id, body } = agentMessage(
    { messages: sandbox.messages, credentials: { ...C }, now: () => new Date() },
    to,
    text,
  );
  const res = await fn.genesys(
    new Request("http://localhost/genesys-webhook", {
      method: "POST",
      headers: { "x-hub-signature-256": await sign(body) },
      body,
    }),
  );
  return { id, body, res };
}

const genesysMessages = () => sandbox.messages.list({ provider: "genesys" });
const whatsappTo = (to: string) => sandbox.messages.list({ provider: "whatsapp", to });

describe("WhatsApp → Genesys", () => {
  it("200 messages from 20 people reach Genesys with one token request", async () => {
    const fn = functions();
    const before = sandbox.genesys.tokenRequests;
    const people = Array.from({ length: 20 }, (_, i) => `+25078810${String(i).padStart(4, "0")}`);
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(people.map((p) => personWrites(fn, p, `hello ${round}`)));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    }
    await fn.settled();
    expect(genesysMessages()).toHaveLength(200);
    expect(sandbox.genesys.tokenRequests - before).toBe(1);
    const one = JSON.parse(genesysMessages()[0].request_body);
    expect(one).toEqual({
      channel: {
        messageId: expect.stringMatching(/^wamid\./),
        from: { id: expect.stringMatching(/^\+2507881/), idType: "Phone", nickname: "Ada" },
        time: expect.any(String),
      },
      text: expect.stringMatching(/^hello \d$/),
    });
    // Nobody got an AI answer: routing is `agent`.
    expect(sandbox.messages.list({ provider: "whatsapp" })).toHaveLength(0);
  }, 120_000);

  it("eight isolates starting at once make one token request between them", async () => {
    await db.sql`delete from public.oauth_tokens`;
    const before = sandbox.genesys.tokenRequests;
    const env = envOf();
    const isolates = Array.from({ length: 8 }, () => createSql(db.url, { max: 2 }));
    try {
      const tokens = await Promise.all(
        isolates.map((sql) =>
          createGenesysTokens(sql, { fetch }).get(
            // Each isolate resolves the integration itself, as genesys-webhook does.
            {
              tenantId: "00000000-0000-0000-0000-000000000001",
              accountId: null,
              integrationId: env.GENESYS_INTEGRATION_ID!,
              apiBaseUrl: env.GENESYS_API_BASE_URL,
              loginBaseUrl: env.GENESYS_LOGIN_BASE_URL,
              clientId: env.GENESYS_CLIENT_ID,
              clientSecret: env.GENESYS_CLIENT_SECRET,
            },
          )
        ),
      );
      expect(new Set(tokens).size).toBe(1);
      expect(typeof tokens[0]).toBe("string");
      expect(sandbox.genesys.tokenRequests - before).toBe(1);
    } finally {
      await Promise.all(isolates.map((s) => s.end({ timeout: 5 })));
    }
  });

  it("a token Genesys stops accepting is refreshed once, and the message still goes", async () => {
    const fn = functions();
    await personWrites(fn, "+250788200001", "first");
    await fn.settled();
    const before = sandbox.genesys.tokenRequests;
    sandbox.genesys.tokens.clear(); // revoked on Genesys' side
    expect((await personWrites(fn, "+250788200001", "second")).status).toBe(200);
    await fn.settled();
    expect(genesysMessages().map((m) => m.body)).toEqual(["first", "second"]);
    expect(sandbox.genesys.tokenRequests - before).toBe(1);
  });
});

describe("Genesys → WhatsApp", () => {
  it("Genesys' receipts for the messages we posted are kept on their tracking rows", async () => {
    const fn = functions();
    await personWrites(fn, "+250788300009", "hello");
    await fn.settled();
    const [posted] = genesysMessages();
    const body = JSON.stringify({
      id: posted.id,
      channel: {
        id: C.genesysIntegrationId,
        platform: "Open",
        type: "Private",
        time: "2026-11-29T10:00:00Z",
      },
      type: "Receipt",
      status: "Failed",
      reasons: [{ code: "GeneralError", message: "Agent unavailable" }],
      direction: "Inbound",
      isFinalReceipt: true,
    });
    const res = await fn.genesys(
      new Request("http://localhost/genesys-webhook", {
        method: "POST",
        headers: { "x-hub-signature-256": await genesysSignature(C.genesysWebhookSecret, body) },
        body,
      }),
    );
    expect(res.status).toBe(200);
    const [row] = await db.sql`select receipt_status, receipt_reason from public.genesys_messages
      where genesys_message_id = ${posted.id}`;
    expect(row).toEqual({
      receipt_status: "Failed",
      receipt_reason: "GeneralError: Agent unavailable",
    });
  });

  it("an agent's text reaches the person on WhatsApp once, however often Genesys retries", async () => {
    const fn = functions();
    await personWrites(fn, "+250788300001", "I want a human");
    await fn.settled();
    const sent = await agentWrites(fn, "+250788300001", "Hi, Grace here. How can I help?");
    expect(sent.res.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const again = await fn.genesys(
        new Request("http://localhost/genesys-webhook", {
          method: "POST",
          headers: {
            "x-hub-signature-256": await genesysSignature(C.genesysWebhookSecret, sent.body),
          },
          body: sent.body,
        }),
      );
      expect(again.status).toBe(200);
    }
    const got = whatsappTo("+250788300001");
    expect(got.map((m) => m.body)).toEqual(["Hi, Grace here. How can I help?"]);
    const [row] = await db.sql`
      select d.purpose, d.status, m.direction from public.genesys_messages m
      join public.message_delivery_log d on d.id = m.delivery_id
      where m.genesys_message_id = ${sent.id}`;
    expect(row).toMatchObject({ purpose: "agent_reply", status: "sent", direction: "outbound" });

    // WhatsApp's statuses of it reach the agent as Open Messaging receipts.
    sandbox.messages.clear();
    for (const status of ["delivered", "read"] as const) {
      const w = whatsappStatus(got[0], status, new Date(), { ...C });
      const res = await fn.wa(
        new Request("http://localhost/wa-webhook", {
          method: "POST",
          headers: { "x-hub-signature-256": await metaSignature(C.whatsappAppSecret, w.body) },
          body: w.body,
        }),
      );
      expect(res.status).toBe(200);
      await fn.settled();
    }
    expect(genesysMessages().map((m) => JSON.parse(m.request_body))).toEqual([
      expect.objectContaining({ id: sent.id, status: "Delivered", direction: "Outbound" }),
      expect.objectContaining({ id: sent.id, status: "Read", isFinalReceipt: true }),
    ]);
  });

  it("outside the 24-hour window the agent gets a Failed receipt saying why; nothing is sent", async () => {
    const fn = functions();
    await personWrites(fn, "+250788300002", "hello");
    await fn.settled();
    await db.sql`update public.message_delivery_log set created_at = now() - interval '25 hours'
      where recipient = '+250788300002' or sender = '+250788300002'`;
    sandbox.messages.clear();
    const { id, res } = await agentWrites(fn, "+250788300002", "Are you still there?");
    expect(res.status).toBe(200);
    expect(whatsappTo("+250788300002")).toHaveLength(0);
    const [receipt] = genesysMessages();
    expect(JSON.parse(receipt.request_body)).toMatchObject({
      id,
      status: "Failed",
      direction: "Outbound",
      channel: { to: { id: "+250788300002", idType: "Phone" } },
      reasons: [{ code: "MessageExpired", message: expect.stringMatching(/24 hours/) }],
    });
  });

  it("an agent message to someone who never wrote to the integration is refused with a receipt", async () => {
    const fn = functions();
    const { res } = await agentWrites(fn, "+250788399999", "Hello?");
    expect(res.status).toBe(200);
    expect(whatsappTo("+250788399999")).toHaveLength(0);
    expect(JSON.parse(genesysMessages()[0].request_body)).toMatchObject({
      status: "Failed",
      reasons: [{ code: "InvalidDestination" }],
    });
  });
});

describe("genesys-webhook signatures", () => {
  const body = '{"id":"m1","channel":{"id":"' + C.genesysIntegrationId + '"},"type":"Typing"}';
  const base64 = createHmac("sha256", C.genesysWebhookSecret).update(body).digest("base64");
  const hex = createHmac("sha256", C.genesysWebhookSecret).update(body).digest("hex");

  const post = (signature: string | null) =>
    functions().genesys(
      new Request("http://localhost/genesys-webhook", {
        method: "POST",
        headers: signature === null ? {} : { "x-hub-signature-256": signature },
        body,
      }),
    );

  it("the sandbox signs as Genesys documents it: sha256= and the base64 HMAC", async () => {
    expect(await genesysSignature(C.genesysWebhookSecret, body)).toBe(`sha256=${base64}`);
  });

  it("accepts the base64 signature and refuses the hex one (Meta's form), another secret or none", async () => {
    expect((await post(`sha256=${base64}`)).status).toBe(200);
    expect((await post(`sha256=${hex}`)).status).toBe(401);
    const other = createHmac("sha256", "not-the-secret").update(body).digest("base64");
    expect((await post(`sha256=${other}`)).status).toBe(401);
    expect((await post(null)).status).toBe(401);
  });

  it("wa-webhook refuses a Genesys-style base64 signature", async () => {
    const fn = functions();
    const w = whatsappInbound({ from: "+250788400001", text: "x", now: new Date() }, { ...C });
    const b64 = createHmac("sha256", C.whatsappAppSecret).update(w.body).digest("base64");
    const res = await fn.wa(
      new Request("http://localhost/wa-webhook", {
        method: "POST",
        headers: { "x-hub-signature-256": `sha256=${b64}` },
        body: w.body,
      }),
    );
    expect(res.status).toBe(401);
  });
});

describe("tenants", () => {
  it("a tenant's integration is used for its own numbers, with its own credentials in Vault", async () => {
    const [t] = await db.sql<{ id: string }[]>`
      insert into public.tenants (slug, name) values ('initech', 'Initech') returning id`;
    await db.sql`select public.save_channel_account(p_tenant_id => ${t.id}, p_kind => 'genesys',
      p_external_id => 'INT-INITECH', p_settings => ${
      db.sql.json({
        api_base_url: `${served.url}/genesys`,
        login_base_url: `${served.url}/genesys`,
      })
    }, p_credentials => ${
      db.sql.json({
        client_id: "initech-client",
        client_secret: "initech-secret",
        webhook_secret: "w",
      })
    })`;
    const accounts = createAccountDirectory(db.sql, envOf());
    const integration = await accounts.genesysOfTenant(t.id);
    expect(integration).toMatchObject({
      integrationId: "INT-INITECH",
      clientId: "initech-client",
      apiBaseUrl: `${served.url}/genesys`,
    });
    // The sandbox only knows the default integration's client: Initech's token is refused.
    const token = await createGenesysTokens(db.sql, { fetch }).get(integration!);
    expect(token).toMatchObject({ code: "GENESYS.TOKEN_REFUSED", class: "permanent" });
    expect(await accounts.genesysOfTenant("00000000-0000-0000-0000-000000000001")).toMatchObject(
      { integrationId: C.genesysIntegrationId },
    );
  });
});
