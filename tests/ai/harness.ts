import type { TestDatabase } from "../support/db.ts";
import type { FakeMtn, FakeWhatsApp } from "../support/fake-providers.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";
import { NO_PACING, sendersFor, startTestEnv } from "../support/env.ts";
import type { OutboundDeps } from "../../supabase/functions/_shared/outbound/send.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { type AgentConfig, createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import type { ReplyDeps } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { recordInbound } from "../../supabase/functions/_shared/conversations/record-inbound.ts";
import { scriptedCompletion } from "../../scripts/sandbox/scripted-model.ts";

/**
 * One database, WhatsApp and MTN fakes, and a local OpenAI-compatible server (answering with
 * the sandbox's scripted model unless a test scripts it), shared by a test file.
 */
export interface Harness {
  db: TestDatabase;
  wa: FakeWhatsApp;
  mtn: FakeMtn;
  openai: FakeOpenAI;
  log: ReturnType<typeof memoryLogger>;
  /** Providers and logger for tool contexts and sendMessage. */
  senders(): OutboundDeps;
  replyDeps(agent?: Partial<AgentConfig>): ReplyDeps;
  /** A phone number no other test in the file uses. */
  newPhone(): string;
  /** Records an inbound message as a webhook would. */
  receive(
    channel: "whatsapp" | "sms",
    phone: string,
    body: string,
  ): ReturnType<typeof recordInbound>;
  reset(): void;
  close(): Promise<void>;
}

let seq = 0;

export async function startHarness(): Promise<Harness> {
  const [env, openai] = await Promise.all([
    startTestEnv(),
    startFakeOpenAI({ otherwise: (req) => scriptedCompletion(req) }),
  ]);
  const { db, wa, mtn } = env;
  const h: Harness = {
    db,
    wa,
    mtn,
    openai,
    log: memoryLogger(),
    senders: () => ({
      sql: db.sql,
      logger: h.log,
      senders: sendersFor(env),
      pacer: NO_PACING,
    }),
    replyDeps: (agent = {}) => {
      const base = h.senders();
      return {
        ...base,
        agent: createAgent(base, {
          baseUrl: openai.baseUrl,
          model: "test-model",
          timeBudgetMs: 5_000,
          ...agent,
        }),
      };
    },
    newPhone: () =>
      `+25079${String(1_000_000 + process.pid % 1000 * 1000 + ++seq).padStart(7, "0")}`,
    receive: (channel, phone, body) =>
      recordInbound(db.sql, {
        channel,
        sender: phone,
        provider: channel === "whatsapp" ? "whatsapp" : "mtn",
        providerMessageId: `${channel}-in-${crypto.randomUUID()}`,
        messageType: "text",
        body,
        correlationId: `corr-${++seq}`,
      }),
    reset: () => {
      env.reset();
      openai.reset();
      h.log = memoryLogger();
    },
    close: async () => {
      await Promise.all([env.close(), openai.close()]);
    },
  };
  return h;
}

/** The messages the fakes accepted: WhatsApp bodies and SMS texts, with their recipients. */
export function sentWhatsApp(h: Harness) {
  return h.wa.requests.map((r) => r.json as { to: string; type: string; text?: { body: string } });
}

export function sentSms(h: Harness) {
  return h.mtn.sendRequests().map((r) => r.json as { receiverAddress: string[]; message: string });
}
