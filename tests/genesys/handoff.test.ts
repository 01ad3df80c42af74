/**
 * Routing `ai_then_agent`: the AI answers until the person asks for a human (or the AI hands off
 * with `conversation_handoff`), then Genesys agents have the conversation until they end it.
 * The real wiring (the functions' factories), the sandbox playing WhatsApp, Genesys and the
 * model over HTTP; posts to Genesys retried from their outbox rows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { agentDisconnect, agentMessage } from "../../scripts/sandbox/genesys.ts";
import { scriptedCompletion } from "../../scripts/sandbox/scripted-model.ts";
import { whatsappInbound } from "../../scripts/sandbox/inbound-payloads.ts";
import { genesysSignature, metaSignature } from "../../scripts/sandbox/signing.ts";
import { SANDBOX_CREDENTIALS as C, sandboxDefaults } from "../../scripts/stack/sandbox-env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { waWebhook } from "../../supabase/functions/_shared/wa-webhook/main.ts";
import { genesysWebhook } from "../../supabase/functions/_shared/genesys-webhook/main.ts";
import { dispatch } from "../../supabase/functions/_shared/dispatch/main.ts";
import { HANDOFF_NOTICE } from "../../supabase/functions/_shared/genesys/handoff.ts";
import { withApiKey } from "../support/auth.ts";

const SECRET = "sb_secret_handoff_test_123456";

let db: TestDatabase;
let sandbox: Sandbox;
let served: Served;
let model: FakeOpenAI;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = createSandbox({ statusCallbacks: false });
  served = await serve(sandbox.handler);
  model = await startFakeOpenAI({ otherwise: scriptedCompletion });
});
afterAll(async () => {
  await model?.close();
  await sandbox?.close();
  await served?.close();
  await db?.close();
});
afterEach(() => {
  sandbox.messages.clear();
  sandbox.faults.clear();
  model.reset();
});

function functions(vars: Record<string, string> = {}) {
  const d = sandboxDefaults(served.url);
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    ...d.whatsapp,
    ...d.genesys,
    WHATSAPP_SUMMARY_TEMPLATE: "",
    OPENAI_BASE_URL: model.baseUrl,
    LOG_LEVEL: "error",
    WHATSAPP_ROUTING: "ai_then_agent",
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }),
    ...vars,
  });
  const background = backgroundTracker();
  return {
    env,
    wa: waWebhook({ env, waitUntil: background.waitUntil }),
    genesys: genesysWebhook({ env, waitUntil: background.waitUntil }),
    dispatch: dispatch({ env, waitUntil: background.waitUntil }),
    settled: background.settled,
  };
}

type Fns = ReturnType<typeof functions>;

async function personWrites(fn: Fns, from: string, text: string) {
  const w = whatsappInbound({ from, text, name: "Ada", now: new Date() }, { ...C });
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

async function genesysPosts(fn: Fns, body: string) {
  const res = await fn.genesys(
    new Request("http://localhost/genesys-webhook", {
      method: "POST",
      headers: { "x-hub-signature-256": await genesysSignature(C.genesysWebhookSecret, body) },
      body,
    }),
  );
  expect(res.status).toBe(200);
  return await res.json();
}

const ctx = () => ({ messages: sandbox.messages, credentials: { ...C }, now: () => new Date() });
const toGenesys = () =>
  sandbox.messages.list({ provider: "genesys" }).filter((m) => !m.body.startsWith("receipt"));
const whatsappTo = (to: string) => sandbox.messages.list({ provider: "whatsapp", to });

const handoffOf = async (phone: string) =>
  (await db.sql<
    { state: string; requested_by: string; reason: string; closed_by: string | null }[]
  >`select state, requested_by, reason, closed_by from public.conversation_handoffs
    where whatsapp_id = ${phone} order by created_at desc limit 1`)[0];

describe("ai_then_agent", () => {
  it(
    "the person asks for a human: notice, transcript to Genesys, AI silent, agent answers, agent ends",
    async () => {
      const fn = functions();
      const phone = "+250788500001";
      await personWrites(fn, phone, "Hi, what are your opening hours?");
      expect(whatsappTo(phone)).toHaveLength(1); // the AI answered
      expect(toGenesys()).toHaveLength(0);

      await personWrites(fn, phone, "I want to talk to a person");
      const answers = whatsappTo(phone);
      expect(answers.at(-1)!.body).toBe(HANDOFF_NOTICE);
      const [posted] = toGenesys();
      const body = JSON.parse(posted.request_body);
      expect(body).toMatchObject({
        channel: {
          from: { id: phone, idType: "Phone", nickname: "Ada" },
          metadata: {
            customAttributes: {
              handoff_requested_by: "person",
              handoff_reason: "The person asked for a human agent",
              session_id: expect.any(String),
            },
          },
        },
        text: "I want to talk to a person",
      });
      expect(body.channel.metadata.customAttributes.transcript).toContain(
        "Person (whatsapp): Hi, what are your opening hours?",
      );
      expect(await handoffOf(phone)).toMatchObject({ state: "waiting", requested_by: "person" });
      // The dashboard's count.
      const [{ waiting }] = await db.sql<{ waiting: number }[]>`
      select count(*)::int as waiting from public.conversation_handoffs
      where state = 'waiting' and whatsapp_id = ${phone}`;
      expect(waiting).toBe(1);

      // With the agents: the next message goes to Genesys and the AI says nothing.
      const modelCalls = model.requests.length;
      await personWrites(fn, phone, "My order number is 4411");
      expect(whatsappTo(phone)).toHaveLength(answers.length);
      expect(toGenesys().map((m) => m.body)).toEqual([
        "I want to talk to a person",
        "My order number is 4411",
      ]);
      expect(model.requests.length).toBe(modelCalls);

      // The agent answers on WhatsApp; the handoff has its agent.
      await genesysPosts(fn, agentMessage(ctx(), phone, "Hi Ada, this is Grace.").body);
      expect(whatsappTo(phone).at(-1)!.body).toBe("Hi Ada, this is Grace.");
      expect(await handoffOf(phone)).toMatchObject({ state: "agent" });

      // The agent ends it: the AI answers the next message again.
      expect(await genesysPosts(fn, agentDisconnect(ctx(), phone).body)).toEqual({
        received: "handed_back",
      });
      expect(await handoffOf(phone)).toMatchObject({ state: "closed", closed_by: "genesys" });
      const before = toGenesys().length;
      await personWrites(fn, phone, "Thanks! One more question about prices");
      expect(toGenesys()).toHaveLength(before);
      expect(whatsappTo(phone).at(-1)!.body).not.toBe("Hi Ada, this is Grace.");
      expect(model.requests.length).toBeGreaterThan(modelCalls);
    },
    60_000,
  );

  it("the AI hands off with conversation_handoff, its reason and summary attached", async () => {
    const fn = functions();
    const phone = "+250788500002";
    await personWrites(fn, phone, "hello");
    const [{ session_id }] = await db.sql<{ session_id: string }[]>`
      select session_id from public.message_delivery_log where sender = ${phone} limit 1`;
    model.replyNext(
      {
        toolCalls: [{
          name: "conversation_handoff",
          arguments: {
            session_id,
            reason: "Billing dispute",
            summary: "Charged twice for October",
          },
        }],
      },
      { content: "Let me get someone for you." },
    );
    await personWrites(fn, phone, "You charged me twice and I am furious");
    expect(whatsappTo(phone).at(-1)!.body).toBe(HANDOFF_NOTICE);
    const tools = model.requests.at(-2)!.tools!.map((t) =>
      t.type === "function" ? t.function.name : ""
    );
    expect(tools).toContain("conversation_handoff");
    const [posted] = toGenesys();
    expect(JSON.parse(posted.request_body).channel.metadata.customAttributes).toMatchObject({
      handoff_requested_by: "ai",
      handoff_reason: "Billing dispute",
      handoff_summary: "Charged twice for October",
    });
    expect(await handoffOf(phone)).toMatchObject({ state: "waiting", requested_by: "ai" });
  }, 60_000);

  it("resolving the conversation in the messages API hands it back to the AI", async () => {
    const fn = functions();
    const phone = "+250788500003";
    await personWrites(fn, phone, "agent please");
    expect(await handoffOf(phone)).toMatchObject({ state: "waiting" });
    await db.sql`update public.omnichannel_sessions set conversation_status = 'resolved'
      where id = (select session_id from public.conversation_handoffs where whatsapp_id = ${phone})`;
    expect(await handoffOf(phone)).toMatchObject({ state: "closed", closed_by: "api" });
  }, 60_000);

  it("on an `ai` number nobody hands off: the words reach the AI", async () => {
    const fn = functions({ WHATSAPP_ROUTING: "ai" });
    const phone = "+250788500004";
    await personWrites(fn, phone, "I want to talk to a person");
    expect(whatsappTo(phone).at(-1)!.body).not.toBe(HANDOFF_NOTICE);
    expect(toGenesys()).toHaveLength(0);
    expect(await handoffOf(phone)).toBeUndefined();
  }, 60_000);
});

describe("posts to Genesys", () => {
  it(
    "a 503 is retried from the outbox with backoff: one message reaches Genesys, status visible",
    async () => {
      const fn = functions({ WHATSAPP_ROUTING: "agent" });
      const phone = "+250788500010";
      // The token first (cached), then Genesys fails the post once.
      await personWrites(fn, phone, "first");
      sandbox.messages.clear();
      sandbox.faults.set({ provider: "genesys", mode: "fail", status: 503, count: 1 });
      await personWrites(fn, phone, "second");
      expect(toGenesys()).toHaveLength(0);
      const [row] = await db.sql<{ id: string; status: string; attempts: number; due: boolean }[]>`
      select o.id, o.status, o.attempts, o.next_attempt_at > now() as due
      from public.genesys_outbox o join public.message_delivery_log d on d.id = o.delivery_id
      where d.body = 'second' and d.sender = ${phone}`;
      expect(row).toMatchObject({ status: "pending", attempts: 1, due: true });

      // Not due yet: the tick leaves it; once due, it goes, once.
      const tick = () =>
        fn.dispatch(
          new Request("http://localhost/dispatch", {
            method: "POST",
            headers: { ...withApiKey(SECRET), "content-type": "application/json" },
            body: JSON.stringify({ replies: false }),
          }),
        );
      expect((await tick()).status).toBe(200);
      expect(toGenesys()).toHaveLength(0);
      await db.sql`update public.genesys_outbox set next_attempt_at = now() where id = ${row.id}`;
      const res = await tick();
      expect((await res.json()).genesys).toMatchObject({ sent: 1 });
      expect(toGenesys().map((m) => m.body)).toEqual(["second"]);
      await tick();
      expect(toGenesys()).toHaveLength(1);
      const [after] = await db.sql<{ status: string; attempts: number }[]>`
      select status, attempts from public.genesys_outbox where id = ${row.id}`;
      expect(after).toEqual({ status: "sent", attempts: 2 });
      // Both bodies we posted are archived, with Genesys' answers.
      const archived = await db.sql<{ response_status: number }[]>`
      select response_status from public.webhook_archive
      where correlation_id = ${`genesys-outbox:${row.id}`} order by id`;
      expect(archived.map((a) => a.response_status)).toEqual([503, 200]);
    },
    60_000,
  );

  it("a refusal (400) is not retried: the row is failed with Genesys' answer", async () => {
    const fn = functions({ WHATSAPP_ROUTING: "agent" });
    const phone = "+250788500011";
    await personWrites(fn, phone, "first");
    sandbox.faults.set({ provider: "genesys", mode: "fail", status: 400, count: 1 });
    await personWrites(fn, phone, "refused");
    const [row] = await db.sql<{ status: string; last_error: string }[]>`
      select o.status, o.last_error from public.genesys_outbox o
      join public.message_delivery_log d on d.id = o.delivery_id
      where d.body = 'refused' and d.sender = ${phone}`;
    expect(row.status).toBe("failed");
    expect(row.last_error).toMatch(/HTTP_400/);
  }, 60_000);
});

describe("agent replies outside the 24-hour window", () => {
  it(
    "go as the number's agent_reply_template when it has one, the agent's text its parameter",
    async () => {
      const phone = "+250788500020";
      await db.sql`select public.save_channel_account(
      p_tenant_id => '00000000-0000-0000-0000-000000000001', p_kind => 'whatsapp',
      p_external_id => ${C.whatsappPhoneNumberId}, p_routing => 'agent',
      p_settings => ${
        db.sql.json({ agent_reply_template: { name: "agent_reply", language: "fr" } })
      },
      p_credentials => ${
        db.sql.json({ access_token: C.whatsappAccessToken, app_secret: C.whatsappAppSecret })
      })`;
      try {
        const fn = functions({ WHATSAPP_ROUTING: "agent" });
        await personWrites(fn, phone, "hello");
        await db.sql`update public.message_delivery_log set created_at = now() - interval '25 hours'
        where sender = ${phone}`;
        sandbox.messages.clear();
        await genesysPosts(fn, agentMessage(ctx(), phone, "Your refund was approved").body);
        const [sent] = whatsappTo(phone);
        const body = JSON.parse(sent.request_body);
        expect(body).toMatchObject({ type: "template", template: { name: "agent_reply" } });
        expect(body.template.language.code).toBe("fr");
        expect(JSON.stringify(body.template.components)).toContain("Your refund was approved");
        expect(sandbox.messages.list({ provider: "genesys" }).map((m) => m.body)).not.toContain(
          expect.stringMatching(/^receipt Failed/),
        );
      } finally {
        await db
          .sql`delete from public.channel_accounts where external_id = ${C.whatsappPhoneNumberId}`;
      }
    },
    60_000,
  );
});
