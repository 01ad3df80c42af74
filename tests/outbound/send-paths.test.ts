import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sendersFor, startTestEnv, type TestEnv } from "../support/env.ts";
import { mtnRequest } from "../sms-inbound/harness.ts";
import { whatsappError } from "../support/fake-providers.ts";
import { secretKeyAuth } from "../support/auth.ts";
import { type FakeOpenAI, openaiError, startFakeOpenAI } from "../support/fake-openai.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer, type Pacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";
import { notifyAfterCall } from "../../supabase/functions/_shared/notifications/notify-after-call.ts";
import { replyToInbound } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { recordInbound } from "../../supabase/functions/_shared/conversations/record-inbound.ts";
import { createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import { createMessagingToolsHandler } from "../../supabase/functions/_shared/messaging-tools/handler.ts";
import { createSmsInboundHandler } from "../../supabase/functions/_shared/sms-inbound/handler.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { MTN_SECRET, TWILIO_TOKEN } from "../sms-inbound/signing.ts";

/**
 * Issue 9 §1: every way a message leaves takes a pacing token from its sender's bucket and
 * records that sender on its row. The pacer is the real one (token buckets in Postgres) wrapped
 * to record which sender each token was taken for.
 */

const SECRET_KEY = "sb_secret_for_tests_0123456789";
let env: TestEnv;
let openai: FakeOpenAI;
let taken: string[];
let seq = 0;
const phone = () =>
  `+25078${String(3_000_000 + process.pid % 1000 * 1000 + ++seq).padStart(7, "0")}`;

function recording(pacer: Pacer): Pacer {
  return {
    async acquire(senders, maxWaitMs) {
      const missing = await pacer.acquire(senders, maxWaitMs);
      taken.push(...senders.map((s) => s.key).filter((k) => !missing.has(k)));
      return missing;
    },
    async take(sender, wanted) {
      const r = await pacer.take(sender, wanted);
      for (let i = 0; i < r.granted; i++) taken.push(sender.key);
      return r;
    },
    slowDown: (key, ms) => pacer.slowDown(key, ms),
  };
}

beforeAll(async () => {
  [env, openai] = await Promise.all([startTestEnv(), startFakeOpenAI()]);
});
afterAll(() => Promise.all([env?.close(), openai?.close()]));
beforeEach(() => {
  env.reset();
  openai.reset();
  taken = [];
});

/** What index.ts gives every function (outboundOf): the senders and their pacer. */
function outbound() {
  return {
    sql: env.db.sql,
    logger: memoryLogger(),
    senders: sendersFor(env),
    pacer: recording(createPacer(env.db.sql)),
    maxWaitMs: 5_000,
  };
}

async function rowsFor(to: string) {
  return await env.db.sql<
    {
      id: string;
      channel: string;
      status: string;
      sender_key: string | null;
      purpose: string | null;
    }[]
  >`
    select id, channel, status, sender_key, purpose from public.message_delivery_log
    where recipient = ${to} and direction = 'outbound' order by created_at`;
}

/** Every outbound row to `to` went out with a sender recorded, and took that sender's token. */
async function expectPaced(to: string, count: number) {
  const rows = await rowsFor(to);
  expect(rows).toHaveLength(count);
  for (const row of rows) {
    expect(row.status, `${row.channel} ${row.purpose}`).toBe("sent");
    expect(row.sender_key, `${row.channel} ${row.purpose} sender_key`).not.toBeNull();
    expect(taken, `${row.channel} ${row.purpose} took a token`).toContain(row.sender_key);
  }
}

const postCallConfig = (channels: "both" | "whatsapp_first" = "both") => ({
  summaryTemplate: "call_summary",
  templateLanguage: "en",
  summaryWaitMs: 0,
  summaryPollMs: 10,
  sendTimeoutMs: 5_000,
  channels,
});

describe("every send path is paced and records its sender", () => {
  it("post-call", async () => {
    const to = phone();
    await notifyAfterCall({ ...outbound(), config: postCallConfig() }, {
      callId: `call-${to}`,
      phoneNumber: to,
      summary: "We agreed on Friday.",
      correlationId: "c1",
    });
    await expectPaced(to, 2);
  });

  it("fallback: the SMS sent when WhatsApp fails for good", async () => {
    const to = phone();
    env.wa.replyNext(whatsappError(131026, "Message undeliverable"));
    await notifyAfterCall({ ...outbound(), config: postCallConfig("whatsapp_first") }, {
      callId: `call-${to}`,
      phoneNumber: to,
      summary: "We agreed on Friday.",
      correlationId: "c2",
    });
    const rows = await rowsFor(to);
    const sms = rows.filter((r) => r.channel === "sms");
    expect(sms).toHaveLength(1);
    // Sent at once by the post-call flow, not left for the next dispatch round.
    expect(sms[0].status).toBe("sent");
    expect(sms[0].sender_key).not.toBeNull();
    expect(taken.filter((k) => k === sms[0].sender_key)).toHaveLength(1);
  });

  it("AI reply", async () => {
    const to = phone();
    const inbound = await recordInbound(env.db.sql, {
      channel: "sms",
      sender: to,
      provider: "mtn",
      providerMessageId: `in-${to}`,
      messageType: "text",
      body: "hello",
      correlationId: "c3",
    });
    const deps = outbound();
    openai.replyNext(openaiError(500));
    const agent = createAgent(deps, {
      baseUrl: openai.baseUrl,
      model: "m",
      timeBudgetMs: 2_000,
      maxModelCalls: 1,
    });
    await replyToInbound({ ...deps, agent }, {
      deliveryId: inbound.deliveryId,
      sessionId: inbound.sessionId,
      channel: "sms",
      sender: to,
      correlationId: "c3",
    });
    await expectPaced(to, 1);
  });

  it("AI tool", async () => {
    const to = phone();
    const inbound = await recordInbound(env.db.sql, {
      channel: "sms",
      sender: to,
      provider: "mtn",
      providerMessageId: `in-${to}`,
      messageType: "text",
      body: "text me the price",
      correlationId: "c4",
    });
    openai.replyNext(
      {
        toolCalls: [{
          name: "messaging_send_sms",
          arguments: { phone_number: to, message: "The price is 250k" },
        }],
      },
      { content: "Sent." },
    );
    const deps = outbound();
    const agent = createAgent(deps, { baseUrl: openai.baseUrl, model: "m", timeBudgetMs: 5_000 });
    await agent.reply({
      sessionId: inbound.sessionId,
      channel: "sms",
      phoneNumber: to,
      correlationId: "c4",
    });
    await expectPaced(to, 1);
  });

  it("tool over HTTP (messaging-tools)", async () => {
    const to = phone();
    const handler = createMessagingToolsHandler({
      ...outbound(),
      auth: secretKeyAuth("messaging-tools", SECRET_KEY),
    });
    const res = await handler(
      new Request("http://localhost/messaging-tools", {
        method: "POST",
        headers: { "content-type": "application/json", apikey: SECRET_KEY },
        body: JSON.stringify({
          name: "messaging_send_sms",
          arguments: { phone_number: to, message: "Hi" },
        }),
      }),
    );
    expect(res.status).toBe(200);
    await expectPaced(to, 1);
  });

  it("keyword reply (HELP over the MTN gateway)", async () => {
    const to = phone();
    const log = memoryLogger();
    const background = backgroundTracker((err) =>
      log.error("BACKGROUND_ERROR", { error: String(err) })
    );
    const handler = createSmsInboundHandler({
      ...outbound(),
      defaultCountry: "RW",
      waitUntil: background.waitUntil,
      onInbound: () => Promise.resolve(),
      onAccepted: () => Promise.resolve(),
      webhook: {
        mtnSecret: MTN_SECRET,
        twilioAuthToken: TWILIO_TOKEN,
        publicFunctionsUrl: "https://x.supabase.co/functions/v1",
      },
    });
    const res = await handler(
      mtnRequest({ from: to, to: "ACME", message: "HELP", id: `mtn-${to}` }),
    );
    expect(res.status).toBe(200);
    await background.settled();
    await expectPaced(to, 1);
  });

  it("dispatch", async () => {
    const to = phone();
    await env.db.sql`
      insert into public.message_delivery_log (channel, direction, recipient, body, status, message_type, purpose)
      values ('sms', 'outbound', ${to}, 'queued for dispatch', 'queued', 'text', 'tool')`;
    await dispatchDue(
      outbound(),
      { batchSize: 10, leaseSeconds: 60, timeBudgetMs: 5_000, correlationId: "c7" },
    );
    await expectPaced(to, 1);
  });
});
