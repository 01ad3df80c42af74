/**
 * An AI reply's cost in the database: 3 statements for a reply without tool calls (the claim
 * with everything the reply reads; the outbound row with its pacing token and the claim's
 * completion; the outcome), with the agent's instructions and tool definitions cached per isolate.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, sentSms, sentWhatsApp, startHarness } from "./harness.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import {
  type ReplyDeps,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";

let h: Harness;
let counted: Sql;
const statements: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  counted = postgres(h.db.url, {
    prepare: false,
    max: 3,
    onnotice: () => {},
    debug: (_c, query) => void statements.push(query),
  }) as unknown as Sql;
});
afterAll(async () => {
  await counted?.end();
  await h?.close();
});

function deps(): ReplyDeps {
  const base = { ...h.senders(), sql: counted, pacer: createPacer(counted) };
  return {
    ...base,
    agent: createAgent(base, {
      baseUrl: h.openai.baseUrl,
      model: "test-model",
      timeBudgetMs: 5_000,
    }),
  };
}

describe("statements per AI reply", () => {
  it("a WhatsApp and an SMS reply take 3 statements each once the isolate is warm", async () => {
    const d = deps();
    const reply = async (channel: "whatsapp" | "sms") => {
      const phone = h.newPhone();
      const r = await h.receive(channel, phone, "hello there, thanks for the call");
      statements.length = 0;
      expect(
        await replyToInbound(d, { ...r, channel, sender: phone, correlationId: `stmt-${phone}` }),
      ).toBe("replied");
      return [...statements];
    };
    await reply("whatsapp"); // the isolate's first reply reads the instructions and tools
    const whatsapp = await reply("whatsapp");
    const sms = await reply("sms");
    // The claim with what the reply reads; the outbound row with its pacing token and the claim's
    // completion; the outcome. Nothing else: no pacing or completion round trip of its own.
    for (const list of [whatsapp, sms]) {
      expect(list.length, list.join("\n")).toBeLessThanOrEqual(3);
      expect(list.join("\n")).not.toMatch(/take_send_token|complete_inbound_reply/);
    }
    expect(sentWhatsApp(h).length).toBeGreaterThanOrEqual(2);
    expect(sentSms(h).length).toBeGreaterThanOrEqual(1);
  });
});
