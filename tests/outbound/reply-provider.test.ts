import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { envVars, startTestEnv, type TestEnv } from "../support/env.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";
import {
  mtnRequest,
  PUBLIC_FUNCTIONS_URL,
  twilioInbound,
  twilioRequest,
} from "../sms-inbound/harness.ts";
import { MTN_SECRET, TWILIO_TOKEN } from "../sms-inbound/signing.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { outboundOf } from "../../supabase/functions/_shared/platform/deps.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import {
  createReplyDeps,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { inboxWorkerOf } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { createSmsInboundHandler } from "../../supabase/functions/_shared/sms-inbound/handler.ts";

/**
 * Issue 9 §1: a reply goes out through the provider and number the person wrote to, with both SMS
 * providers configured at once; SMS_PROVIDER only picks the sender of messages nobody asked for.
 * Wired as the sms-inbound function wires itself (index.ts), on local MTN and Twilio servers.
 */

const TWILIO_FROM = "+15005550006";
/** Another of our Twilio numbers: the one the person texted. */
const TWILIO_OTHER = "+15005550777";
let env: TestEnv;
let openai: FakeOpenAI;
let seq = 0;
const phone = () =>
  `+25078${String(5_000_000 + process.pid % 1000 * 1000 + ++seq).padStart(7, "0")}`;

beforeAll(async () => {
  [env, openai] = await Promise.all([
    startTestEnv({ twilio: { authToken: TWILIO_TOKEN } }),
    startFakeOpenAI(),
  ]);
});
afterAll(() => Promise.all([env?.close(), openai?.close()]));
beforeEach(() => {
  env.reset();
  openai.reset();
});

/** The sms-inbound function, as index.ts builds it, with SMS_PROVIDER = `provider`. */
function smsInbound(provider: "mtn" | "twilio") {
  const config = loadConfig({
    ...envVars(env),
    SMS_PROVIDER: provider,
    TWILIO_API_BASE_URL: env.twilio!.baseUrl,
    TWILIO_ACCOUNT_SID: env.twilio!.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM_NUMBER: TWILIO_FROM,
    MTN_WEBHOOK_SECRET: MTN_SECRET,
    PUBLIC_FUNCTIONS_URL,
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_API_KEY: "sk-test",
  });
  const platform = {
    env: config,
    sql: env.db.sql,
    logger: memoryLogger(),
    fetch: globalThis.fetch,
  };
  const outbound = outboundOf(platform);
  const replyDeps = createReplyDeps(platform, outbound);
  const background = backgroundTracker();
  const handler = createSmsInboundHandler({
    ...outbound,
    defaultCountry: "RW",
    waitUntil: background.waitUntil,
    onInbound: async (inbound) => void await replyToInbound(replyDeps, inbound),
    // The inbox worker, as the agent-worker function runs it: derives, then replies.
    onAccepted: async () => void await inboxWorkerOf(replyDeps)(),
    webhook: {
      mtnSecret: MTN_SECRET,
      twilioAuthToken: TWILIO_TOKEN,
      publicFunctionsUrl: PUBLIC_FUNCTIONS_URL,
    },
  });
  return async (req: Request) => {
    const res = await handler(req);
    await background.settled();
    return res;
  };
}

const twilioSends = () => env.twilio!.requests.map((r) => r.form ?? {});
const mtnSends = () => env.mtn.sendRequests();

describe("a reply goes back the way the message came", () => {
  for (const provider of ["mtn", "twilio"] as const) {
    describe(`SMS_PROVIDER=${provider}, both providers configured`, () => {
      it("a Twilio inbound is answered through Twilio, from the To number it was sent to", async () => {
        const from = phone();
        const res = await smsInbound(provider)(
          twilioRequest(
            twilioInbound(
              from,
              "What is my price?",
              `SM${crypto.randomUUID().replaceAll("-", "")}`,
              { To: TWILIO_OTHER },
            ),
          ),
        );
        expect(res.status).toBe(200);
        expect(mtnSends()).toHaveLength(0);
        expect(twilioSends()).toEqual([expect.objectContaining({ To: from, From: TWILIO_OTHER })]);
        const [row] = await env.db.sql`select sender_key, provider from public.message_delivery_log
          where recipient = ${from} and direction = 'outbound'`;
        expect(row).toEqual({ sender_key: `sms:twilio:${TWILIO_OTHER}`, provider: "twilio" });
      });

      it("a Twilio HELP is answered in the TwiML, recorded as sent from the To number", async () => {
        const from = phone();
        const sid = `SM${crypto.randomUUID().replaceAll("-", "")}`;
        const res = await smsInbound(provider)(
          twilioRequest(twilioInbound(from, "HELP", sid, { To: TWILIO_OTHER })),
        );
        expect(res.status).toBe(200);
        expect(await res.text()).toContain("<Message>");
        expect(mtnSends()).toHaveLength(0);
        expect(twilioSends()).toHaveLength(0);
        const [row] = await env.db
          .sql`select sender_key, provider, status from public.message_delivery_log
          where recipient = ${from} and direction = 'outbound'`;
        expect(row).toEqual({
          sender_key: `sms:twilio:${TWILIO_OTHER}`,
          provider: "twilio",
          status: "sent",
        });
      });

      it("an MTN inbound (a question, and HELP) is answered through MTN", async () => {
        const from = phone();
        const send = smsInbound(provider);
        expect(
          (await send(
            mtnRequest({ from, to: "ACME", message: "What is my price?", id: `mo-q-${from}` }),
          )).status,
        ).toBe(200);
        expect(
          (await send(mtnRequest({ from, to: "ACME", message: "HELP", id: `mo-h-${from}` })))
            .status,
        ).toBe(200);
        expect(twilioSends()).toHaveLength(0);
        expect(mtnSends()).toHaveLength(2);
        const rows = await env.db.sql`select sender_key, provider from public.message_delivery_log
          where recipient = ${from} and direction = 'outbound'`;
        expect(rows).toEqual([{ sender_key: "sms:mtn:ACME", provider: "mtn" }, {
          sender_key: "sms:mtn:ACME",
          provider: "mtn",
        }]);
      });
    });
  }
});
