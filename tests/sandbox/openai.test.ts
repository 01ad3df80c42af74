import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSandbox } from "../../scripts/sandbox/sandbox.ts";
import { sessionContextMessage } from "../../supabase/functions/_shared/ai/prompt.ts";
import { getMessagingTools } from "../../supabase/functions/_shared/tools/messaging.ts";
import { serve, type Served } from "../support/serve.ts";

/** The sandbox's OpenAI-compatible endpoint, driven by the official SDK as the agent drives it. */

const sandbox = createSandbox();
let server: Served;
let client: OpenAI;

beforeAll(async () => {
  server = await serve(sandbox.handler);
  // No API key: the SDK insists on one, the sandbox does not look at it.
  client = new OpenAI({ apiKey: "unused", baseURL: `${server.url}/openai/v1`, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  sandbox.messages.clear();
  sandbox.faults.clear();
});

const SESSION = "0b6f1f6e-3c1a-4d55-9a57-2b4f8f2f5e10";
const system = sessionContextMessage(
  {
    sessionId: SESSION,
    phoneNumber: "+250788123456",
    displayName: null,
    status: "active",
    context: {},
    channelsSeen: ["sms"],
  },
  "sms",
);
const ask = (text: string): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
  model: "gpt-4o-mini",
  messages: [{ role: "system", content: "You are helpful." }, { role: "system", content: system }, {
    role: "user",
    content: `[SMS] ${text}`,
  }],
  tools: getMessagingTools(),
  tool_choice: "auto",
});

const post = (body: string) =>
  fetch(`${server.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

describe("POST /openai/v1/chat/completions", () => {
  it("answers a change with a session_add_context tool call, then confirms, and records both calls", async () => {
    const first = await client.chat.completions.create(ask("change the price to 250k"));
    const call = first.choices[0].message
      .tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0].finish_reason).toBe("tool_calls");
    expect(call.function.name).toBe("session_add_context");
    expect(JSON.parse(call.function.arguments)).toEqual({
      session_id: SESSION,
      key: "price",
      value: "250k",
    });

    const request = ask("change the price to 250k");
    const second = await client.chat.completions.create({
      ...request,
      messages: [...request.messages, { role: "assistant", content: null, tool_calls: [call] }, {
        role: "tool",
        tool_call_id: call.id,
        content: JSON.stringify({ session_id: SESSION, context: { price: "250k" } }),
      }],
    });
    expect(second.choices[0].message.content).toBe(
      "[sandbox model] Done: I've updated the price to 250k.",
    );

    const recorded = sandbox.messages.list({ provider: "openai" });
    expect(recorded.map((m) => [m.channel, m.to, m.from])).toEqual([
      ["ai", "sandbox-scripted", "gpt-4o-mini"],
      ["ai", "sandbox-scripted", "gpt-4o-mini"],
    ]);
    expect(recorded[0].body).toMatch(/^tool call session_add_context \{.*"value":"250k"/);
    expect(recorded[1].body).toContain("updated the price to 250k");
  });

  it("refuses malformed bodies in OpenAI's error format", async () => {
    const notJson = await post("{nope");
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error).toMatchObject({
      type: "invalid_request_error",
      param: null,
      code: null,
    });

    const missing = await post(JSON.stringify({ model: "gpt-4o-mini" }));
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toEqual({
      message: "Missing required parameter: 'messages'.",
      type: "invalid_request_error",
      param: "messages",
      code: "missing_required_parameter",
    });

    const badRole = await post(
      JSON.stringify({ model: "m", messages: [{ role: "robot", content: "x" }] }),
    );
    expect((await badRole.json()).error).toMatchObject({
      param: "messages[0].role",
      code: "invalid_value",
    });

    const stream = await post(
      JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "x" }] }),
    );
    expect(stream.status).toBe(400);
    expect((await stream.json()).error).toMatchObject({ param: "stream" });
    expect(sandbox.messages.list({ provider: "openai" })).toEqual([]);
  });

  it("fails or slows down as faults say, in OpenAI's error shape", async () => {
    sandbox.faults.set({ provider: "openai", mode: "fail", status: 503, count: 1 });
    const err = await client.chat.completions.create(ask("hi")).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(503);
    expect(err.error).toMatchObject({ type: "server_error" });

    sandbox.faults.set({ provider: "openai", mode: "slow", delay_ms: 500, count: 1 });
    const timedOut = await client.chat.completions.create(ask("hi"), { timeout: 100 }).catch((e) =>
      e
    );
    expect(timedOut.constructor.name).toBe("APIConnectionTimeoutError");
    const ok = await client.chat.completions.create(ask("hi"));
    expect(ok.choices[0].message.content).toContain('You said: "hi"');
  });
});

describe("GET /openai/v1/models", () => {
  it("lists the scripted model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => [m.id, m.object, m.owned_by])).toEqual([[
      "sandbox-scripted",
      "model",
      "sandbox",
    ]]);
  });
});
