import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";
import { openaiError } from "../support/fake-openai.ts";
import { refusedUrl } from "../support/fake-providers.ts";
import { type AgentConfig, createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import { AgentError } from "../../supabase/functions/_shared/ai/errors.ts";
import { SESSION_CONTEXT_PREFIX } from "../../supabase/functions/_shared/ai/prompt.ts";
import { sendMessage } from "../../supabase/functions/_shared/outbound/send-message.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const agent = (over: Partial<AgentConfig> = {}) =>
  createAgent(h.senders(), {
    baseUrl: h.openai.baseUrl,
    model: "test-model",
    timeBudgetMs: 5_000,
    ...over,
  });

async function conversation(channel: "whatsapp" | "sms" = "sms", text = "hello") {
  const phone = h.newPhone();
  const r = await h.receive(channel, phone, text);
  return {
    phone,
    sessionId: r.sessionId,
    input: { sessionId: r.sessionId, channel, phoneNumber: phone, correlationId: "corr-agent" },
  };
}

function sessionFacts(request: { messages: { role: string; content?: unknown }[] }) {
  const m = request.messages.find((x) =>
    x.role === "system" && String(x.content).startsWith(SESSION_CONTEXT_PREFIX)
  );
  return JSON.parse(String(m!.content).slice(SESSION_CONTEXT_PREFIX.length).split("\n")[0]);
}

async function rejection(p: Promise<unknown>): Promise<AgentError> {
  const err = await p.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

describe("the agent", () => {
  it("prompts with the database instructions, the session context, the history and the 7 tools", async () => {
    const c = await conversation("sms", "hi there");
    await h.db.sql`select public.merge_omnichannel_session_context(${c.sessionId}, ${
      h.db.sql.json({ plan: "premium" })
    })`;
    h.openai.replyNext({ content: "Hello!" });
    const reply = await agent().reply(c.input);
    expect(reply).toEqual({ text: "Hello!", modelCalls: 1, tools: [] });

    const [req] = h.openai.requests;
    expect(req.model).toBe("test-model");
    expect(req.messages[0]).toMatchObject({
      role: "system",
      content: expect.stringContaining("customer-care agent"),
    });
    expect(sessionFacts(req)).toMatchObject({
      session_id: c.sessionId,
      phone_number: c.phone,
      channel: "sms",
      status: "active",
      context: { plan: "premium" },
    });
    expect(req.messages.at(-1)).toEqual({ role: "user", content: "[SMS] hi there" });
    expect(req.tools?.map((t) => (t as { function: { name: string } }).function.name)).toHaveLength(
      7,
    );
    expect(req.tool_choice).toBe("auto");
  });

  it("runs the tool-call loop: the tool changes the session, its result goes back as a tool message", async () => {
    const c = await conversation("whatsapp", "change the price to 250k");
    h.openai.replyNext(
      {
        toolCalls: [{
          id: "call_1",
          name: "session_add_context",
          arguments: { session_id: c.sessionId, key: "price", value: "250k" },
        }],
      },
      { content: "Done: the price is now *250k*." },
    );
    const reply = await agent().reply(c.input);
    expect(reply).toEqual({
      text: "Done: the price is now *250k*.",
      modelCalls: 2,
      tools: ["session_add_context"],
    });

    const [row] = await h.db
      .sql`select context from public.omnichannel_sessions where id = ${c.sessionId}`;
    expect(row.context).toEqual({ price: "250k" });
    const second = h.openai.requests[1].messages;
    expect(second.at(-2)).toMatchObject({
      role: "assistant",
      tool_calls: [{ id: "call_1", type: "function" }],
    });
    expect(second.at(-1)).toMatchObject({ role: "tool", tool_call_id: "call_1" });
    expect(JSON.parse(String(second.at(-1)!.content))).toEqual({
      session_id: c.sessionId,
      context: { price: "250k" },
    });
  });

  it("hands the model a typed error for bad arguments or another person's session, and goes on", async () => {
    const c = await conversation();
    const stranger = await conversation();
    h.openai.replyNext(
      {
        toolCalls: [
          { name: "session_add_context", arguments: '{"session_id": ' },
          { name: "session_get_context", arguments: { session_id: stranger.sessionId } },
          { name: "no_such_tool", arguments: {} },
        ],
      },
      { content: "Sorry, I could not do that." },
    );
    expect((await agent().reply(c.input)).text).toBe("Sorry, I could not do that.");
    const tools = h.openai.requests[1].messages.filter((m) => m.role === "tool").map((m) =>
      JSON.parse(String(m.content)).error.code
    );
    expect(tools).toEqual(["TOOL.INVALID_ARGUMENTS", "TOOL.OUT_OF_SCOPE", "TOOL.UNKNOWN"]);
  });

  it("the history holds the conversation from every channel, oldest first", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "I want to change my plan");
    await sendMessage(h.senders(), {
      channel: "whatsapp",
      to: phone,
      body: "Sure, which plan?",
      purpose: "ai_reply",
      correlationId: "c",
    });
    const sms = await h.receive("sms", phone, "premium please");
    h.openai.replyNext({ content: "Noted." });
    await agent().reply({
      sessionId: sms.sessionId,
      channel: "sms",
      phoneNumber: phone,
      correlationId: "c",
    });
    const history = h.openai.requests[0].messages.filter((m) =>
      m.role === "user" || m.role === "assistant"
    );
    expect(history).toEqual([
      { role: "user", content: "[WhatsApp] I want to change my plan" },
      { role: "assistant", content: "Sure, which plan?" },
      { role: "user", content: "[SMS] premium please" },
    ]);
    expect(sessionFacts(h.openai.requests[0]).channels_seen).toEqual(["whatsapp", "sms"]);
  });

  it("is bounded: the last allowed model call offers no tools, so it must answer", async () => {
    const c = await conversation();
    const call = { name: "session_get_context", arguments: { session_id: c.sessionId } };
    h.openai.replyNext({ toolCalls: [call] }, { toolCalls: [call] }, { content: "Final answer." });
    const reply = await agent({ maxModelCalls: 3 }).reply(c.input);
    expect(reply).toMatchObject({ text: "Final answer.", modelCalls: 3 });
    expect(h.openai.requests.map((r) => r.tool_choice)).toEqual(["auto", "auto", "none"]);

    h.openai.reset();
    h.openai.replyNext({ toolCalls: [call] }, { toolCalls: [call] });
    expect((await rejection(agent({ maxModelCalls: 2 }).reply(c.input))).code).toBe(
      "AI.EMPTY_REPLY",
    );
    expect(h.openai.requests).toHaveLength(2);
  });

  it("does not offer a tool an operator switched off", async () => {
    const c = await conversation();
    await h.db
      .sql`update public.agent_tool_definitions set enabled = false where name = 'messaging_send_sms'`;
    try {
      await agent().reply(c.input);
      const names = h.openai.requests[0].tools!.map((t) =>
        (t as { function: { name: string } }).function.name
      );
      expect(names).toHaveLength(6);
      expect(names).not.toContain("messaging_send_sms");
    } finally {
      await h.db
        .sql`update public.agent_tool_definitions set enabled = true where name = 'messaging_send_sms'`;
    }
  });

  it("fails with a typed error on a timeout, an HTTP error or an unreachable endpoint", async () => {
    const c = await conversation();
    h.openai.replyNext({ content: "too late", delayMs: 1_000 });
    // AI.TIMEOUT (not the late answer) shows the call was cut at the budget.
    expect((await rejection(agent({ timeBudgetMs: 200 }).reply(c.input))).code).toBe("AI.TIMEOUT");

    h.openai.replyNext(openaiError(500));
    const err = await rejection(agent().reply(c.input));
    expect(err).toMatchObject({ code: "AI.MODEL_ERROR", httpStatus: 500 });

    expect((await rejection(agent({ baseUrl: `${await refusedUrl()}/v1` }).reply(c.input))).code)
      .toBe("AI.UNREACHABLE");
  });

  it("without a key: a placeholder for OpenAI-compatible servers, an immediate failure for api.openai.com", async () => {
    const c = await conversation();
    await agent().reply(c.input);
    await agent({ apiKey: "sk-test" }).reply(c.input);
    expect(h.openai.authorizations).toEqual(["Bearer no-key-needed", "Bearer sk-test"]);

    // NOT_CONFIGURED, not UNREACHABLE (this sandbox has no route out): no request was tried.
    const err = await rejection(agent({ baseUrl: "https://api.openai.com/v1" }).reply(c.input));
    expect(err.code).toBe("AI.NOT_CONFIGURED");
  });
});
