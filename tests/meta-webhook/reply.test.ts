/**
 * The AI's answer to a Messenger/Instagram message: the same agent and history as SMS/WhatsApp,
 * the payload of a choice in what it reads, and the answer sent back on that channel as plain
 * text (no Markdown) within Meta's limits, through the Send API, once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeMeta, startFakeMeta } from "../support/fake-providers.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";
import { createHarness, type Harness, outboundFor, post, PSID, withReplaced } from "./harness.ts";
import { createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import {
  type ReplyDeps,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";

let db: TestDatabase;
let meta: FakeMeta;
let openai: FakeOpenAI;
let h: Harness;
let deps: ReplyDeps;
beforeAll(async () => {
  [db, meta, openai] = await Promise.all([
    createTestDatabase(),
    startFakeMeta(),
    startFakeOpenAI(),
  ]);
  const out = outboundFor(db, meta);
  deps = {
    ...out,
    agent: createAgent(out, { baseUrl: openai.baseUrl, model: "m", timeBudgetMs: 5_000 }),
  };
  h = createHarness({ db, meta, onInbound: async (i) => void await replyToInbound(deps, i) });
});
afterAll(async () => {
  await h?.settled();
  await Promise.all([db?.close(), meta?.close(), openai?.close()]);
});
beforeEach(() => {
  meta.reset();
  openai.reset();
});

let n = 0;
async function deliver(name: string) {
  n++;
  const person = `5${String(n).padStart(15, "0")}`;
  const raw = withReplaced(name, { [PSID]: person, m_msgr_: `m_reply_${n}_` });
  const res = await h.handler(post(raw));
  expect(res.status).toBe(200);
  await h.settled();
  return person;
}

const sentTexts = (person: string) =>
  meta.requests.filter((r) =>
    (r.json as { recipient?: { id?: string }; message?: unknown })?.recipient?.id === person &&
    (r.json as { message?: unknown }).message
  ).map((r) => (r.json as { message: { text: string } }).message.text);

describe("the AI answers on Messenger", () => {
  it("plain text, within 2,000 characters, once, as a RESPONSE", async () => {
    openai.replyNext({
      content:
        `**Good news!** Your order _ships_ today.\n- tracking: [link](https://t.example/1)\n${
          "More details. ".repeat(300)
        }`,
    });
    const person = await deliver("messenger/text");
    const texts = sentTexts(person);
    expect(texts).toHaveLength(1);
    expect(
      texts[0].startsWith(
        "Good news! Your order ships today.\n• tracking: link (https://t.example/1)",
      ),
    )
      .toBe(true);
    expect(texts[0].length).toBeLessThanOrEqual(2000);
    const [row] = await db.sql`
      select channel, status, purpose from public.message_delivery_log
      where recipient = ${person} and direction = 'outbound'`;
    expect(row).toEqual({ channel: "messenger", status: "sent", purpose: "ai_reply" });
  });

  it("a postback reaches the agent as what the person chose, with the Messenger style", async () => {
    openai.replyNext({ content: "Your order is on its way." });
    await deliver("messenger/postback");
    const request = openai.requests.at(-1)!;
    const prompt = JSON.stringify(request.messages);
    expect(prompt).toContain("[chose: Track my order (TRACK_ORDER)]");
    expect(prompt).toContain("Facebook Messenger");
  });
});
