import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, sentWhatsApp, startHarness } from "./harness.ts";
import { openaiError } from "../support/fake-openai.ts";
import { SESSION_CONTEXT_PREFIX } from "../../supabase/functions/_shared/ai/prompt.ts";
import {
  FALLBACK_REPLY,
  type InboundToReply,
  replyPending,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

async function inbound(
  channel: "whatsapp" | "sms",
  phone: string,
  text: string,
): Promise<InboundToReply> {
  const r = await h.receive(channel, phone, text);
  return {
    deliveryId: r.deliveryId,
    sessionId: r.sessionId,
    channel,
    sender: phone,
    correlationId: `corr-${r.deliveryId}`,
  };
}

async function replyState(deliveryId: string) {
  const [row] = await h.db.sql`
    select reply_state, leased_until from public.message_delivery_log where id = ${deliveryId}`;
  return row;
}

async function session(id: string) {
  const [row] = await h.db
    .sql`select status, context from public.omnichannel_sessions where id = ${id}`;
  return row;
}

function aiReplies(phone: string) {
  return h.db.sql`
    select channel, status, body, purpose, idempotency_key, session_id from public.message_delivery_log
    where recipient = ${phone} and direction = 'outbound' order by created_at`;
}

describe("replyToInbound", () => {
  it("SMS: the scripted model's tool call changes the session and its confirmation goes back by SMS", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "Please change the price to 250k");
    expect(await replyToInbound(h.replyDeps(), msg)).toBe("replied");

    expect((await session(msg.sessionId)).context).toEqual({ price: "250k" });
    expect(h.openai.requests).toHaveLength(2);
    expect(sentWhatsApp(h)).toHaveLength(0);
    expect(sentSms(h)).toEqual([
      expect.objectContaining({
        receiverAddress: [phone.slice(1)],
        message: "[sandbox model] Done: I've updated the price to 250k.",
      }),
    ]);
    expect(await aiReplies(phone)).toEqual([expect.objectContaining({
      channel: "sms",
      status: "sent",
      purpose: "ai_reply",
      idempotency_key: `ai_reply:${msg.deliveryId}`,
      session_id: msg.sessionId,
    })]);
    expect(await replyState(msg.deliveryId)).toEqual({ reply_state: "done", leased_until: null });
  });

  it("WhatsApp: the answer goes back as WhatsApp text, Markdown turned into WhatsApp's", async () => {
    const phone = h.newPhone();
    const msg = await inbound("whatsapp", phone, "when is delivery?");
    h.openai.replyNext({ content: "Delivery is on **Friday**." });
    expect(await replyToInbound(h.replyDeps(), msg)).toBe("replied");
    expect(sentSms(h)).toHaveLength(0);
    expect(sentWhatsApp(h)).toEqual([
      expect.objectContaining({
        to: phone.slice(1),
        type: "text",
        text: expect.objectContaining({ body: "Delivery is on *Friday*." }),
      }),
    ]);
  });

  it("SMS answers are plain and at most 3 segments", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "tell me everything");
    h.openai.replyNext({
      content: `**Plan details**\n- ${"A very long explanation of the plan. ".repeat(30)}`,
    });
    await replyToInbound(h.replyDeps(), msg);
    const [sms] = sentSms(h);
    expect(sms.message.startsWith("Plan details\n- A very long")).toBe(true);
    expect(sms.message.endsWith("...")).toBe(true);
    expect(sms.message.length).toBeLessThanOrEqual(459);
  });

  for (
    const [label, step] of [
      ["times out", { content: "too late", delayMs: 1_500 }],
      ["answers 500", openaiError(500)],
    ] as const
  ) {
    it(`when the model ${label}: the fallback is sent and the session set to follow_up`, async () => {
      const phone = h.newPhone();
      const msg = await inbound("whatsapp", phone, "hello?");
      h.openai.replyNext(step);
      expect(await replyToInbound(h.replyDeps({ timeBudgetMs: 400 }), msg)).toBe("fallback");
      expect(sentWhatsApp(h).map((m) => m.text?.body)).toEqual([FALLBACK_REPLY]);
      expect((await session(msg.sessionId)).status).toBe("follow_up");
      expect(await replyState(msg.deliveryId)).toMatchObject({ reply_state: "done" });
      expect(h.log.lines).toContainEqual(
        expect.objectContaining({ event: "AI_REPLY_FALLBACK", level: "warn" }),
      );
    });
  }

  it("an answer with nothing to send once formatted gets the fallback too", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "hello?");
    h.openai.replyNext({ content: "[SMS]  " });
    expect(await replyToInbound(h.replyDeps(), msg)).toBe("fallback");
    expect(sentSms(h)).toHaveLength(1);
  });

  it("the fallback by SMS is GSM-7 plain text", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "hello?");
    h.openai.replyNext(openaiError(503));
    await replyToInbound(h.replyDeps(), msg);
    expect(sentSms(h).map((m) => m.message)).toEqual([
      "Thanks for your message - a member of our team will get back to you shortly.",
    ]);
  });

  it("a reply on SMS after WhatsApp lands in the same session, with the context the WhatsApp turn wrote", async () => {
    const phone = h.newPhone();
    const first = await inbound("whatsapp", phone, "change the price to 250k");
    await replyToInbound(h.replyDeps(), first);
    expect(sentWhatsApp(h).map((m) => m.text?.body)).toEqual([
      "[sandbox model] Done: I've updated the price to 250k.",
    ]);
    const whatsappTurn = h.openai.requests.length;

    const second = await inbound("sms", phone, "What price did we agree?");
    expect(second.sessionId).toBe(first.sessionId);
    await replyToInbound(h.replyDeps(), second);

    const smsTurn = h.openai.requests[whatsappTurn];
    const facts = smsTurn.messages.find((m) =>
      m.role === "system" && String(m.content).startsWith(SESSION_CONTEXT_PREFIX)
    );
    expect(String(facts!.content)).toContain('"context":{"price":"250k"}');
    expect(String(facts!.content)).toContain('"channel":"sms"');
    expect(smsTurn.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "[WhatsApp] change the price to 250k",
      "[SMS] What price did we agree?",
    ]);
    expect(smsTurn.messages).toContainEqual({
      role: "assistant",
      content: "[sandbox model] Done: I've updated the price to 250k.",
    });
    expect(sentSms(h).map((m) => m.message)).toEqual([
      "[sandbox model] The price on file is 250k.",
    ]);
    expect(sentWhatsApp(h)).toHaveLength(1);
  });

  it("two concurrent replies for the same inbound message: one model call, one message sent", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "hello");
    h.openai.replyNext({ content: "Hi! How can I help?", delayMs: 200 });
    const outcomes = await Promise.all([
      replyToInbound(h.replyDeps(), msg),
      replyToInbound(h.replyDeps(), msg),
    ]);
    expect(outcomes.sort()).toEqual(["not_claimed", "replied"]);
    expect(h.openai.requests).toHaveLength(1);
    expect(sentSms(h)).toHaveLength(1);
    expect(await replyToInbound(h.replyDeps(), msg)).toBe("not_claimed");
    expect(sentSms(h)).toHaveLength(1);
  });
});

describe("replyPending", () => {
  it("replies once to an inbound message left pending (a crash after the webhook's 200)", async () => {
    const phone = h.newPhone();
    const msg = await inbound("sms", phone, "anyone there?");
    expect(await replyState(msg.deliveryId)).toMatchObject({ reply_state: "pending" });

    // Too young for the retry path: the webhook's own background reply may still be running.
    expect((await replyPending(h.replyDeps(), { olderThanSeconds: 60, limit: 10 })).found).toBe(0);

    h.openai.replyNext({ content: "Yes, we are here." });
    const [a, b] = await Promise.all([
      replyPending(h.replyDeps(), { olderThanSeconds: 0, limit: 10 }),
      replyPending(h.replyDeps(), { olderThanSeconds: 0, limit: 10 }),
    ]);
    expect(a.replied + b.replied).toBe(1);
    expect(sentSms(h).map((m) => m.message)).toEqual(["Yes, we are here."]);
    expect(await replyState(msg.deliveryId)).toMatchObject({ reply_state: "done" });
    expect(await replyPending(h.replyDeps(), { olderThanSeconds: 0, limit: 10 })).toMatchObject({
      found: 0,
    });
  });

  it("takes over a reply whose replier died (expired lease), and never sends the reply twice", async () => {
    const phone = h.newPhone();
    const msg = await inbound("whatsapp", phone, "status of my order?");
    h.openai.replyNext({ content: "It ships today." });
    await replyToInbound(h.replyDeps(), msg);
    // The replier sent, then died before completing: the row is still leased, the lease runs out.
    await h.db.sql`update public.message_delivery_log
      set reply_state = 'in_progress', leased_until = now() - interval '1 second' where id = ${msg.deliveryId}`;

    const live = await inbound("whatsapp", h.newPhone(), "still being answered");
    await h.db.sql`select public.claim_inbound_reply(${live.deliveryId}, 120)`;

    h.openai.replyNext({ content: "It ships today (second run)." });
    const result = await replyPending(h.replyDeps(), { olderThanSeconds: 0, limit: 10 });
    expect(result).toMatchObject({ found: 1, replied: 1 });
    expect(sentWhatsApp(h).map((m) => m.text?.body)).toEqual(["It ships today."]);
    expect(await aiReplies(phone)).toHaveLength(1);
    expect(await replyState(msg.deliveryId)).toMatchObject({ reply_state: "done" });
    expect(await replyState(live.deliveryId)).toMatchObject({ reply_state: "in_progress" });
  });
});
