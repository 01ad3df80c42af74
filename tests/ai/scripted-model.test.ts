import { describe, expect, it } from "vitest";
import type OpenAI from "openai";
import {
  changeIn,
  isQuestionAboutEarlier,
  SCRIPTED_MODEL,
  scriptedCompletion,
} from "../../scripts/sandbox/scripted-model.ts";
import { sessionContextMessage } from "../../supabase/functions/_shared/ai/prompt.ts";
import { getMessagingTools } from "../../supabase/functions/_shared/tools/messaging.ts";

const SESSION = "0b6f1f6e-3c1a-4d55-9a57-2b4f8f2f5e10";
type Message = OpenAI.ChatCompletionMessageParam;

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

function request(
  messages: Message[],
  extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {},
) {
  return {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "instructions" },
      { role: "system", content: system },
      ...messages,
    ] as Message[],
    tools: getMessagingTools(),
    tool_choice: "auto" as const,
    ...extra,
  };
}

const user = (content: string): Message => ({ role: "user", content });

/** The model's answer, and the conversation continued with it and the tool's result. */
function withToolResult(messages: Message[], result: unknown): Message[] {
  const answer = scriptedCompletion(request(messages)).choices[0].message;
  const call = answer.tool_calls![0];
  return [...messages, { role: "assistant", content: null, tool_calls: answer.tool_calls }, {
    role: "tool",
    tool_call_id: call.id,
    content: JSON.stringify(result),
  }];
}

describe("the sandbox's scripted model", () => {
  it("answers a change with a session_add_context tool call, in OpenAI's wire format", () => {
    const out = scriptedCompletion(
      request([user("[SMS] Please change the price to 250k")]),
      () => new Date(1_700_000_000_000),
    );
    expect(out).toMatchObject({
      object: "chat.completion",
      created: 1_700_000_000,
      model: SCRIPTED_MODEL,
      choices: [{
        index: 0,
        finish_reason: "tool_calls",
        message: { role: "assistant", content: null },
      }],
      usage: {
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      },
    });
    const [call] = out.choices[0].message
      .tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    expect(call).toMatchObject({
      id: expect.stringMatching(/^call_/),
      type: "function",
      function: { name: "session_add_context" },
    });
    expect(JSON.parse(call.function.arguments)).toEqual({
      session_id: SESSION,
      key: "price",
      value: "250k",
    });
  });

  it("confirms once the tool's result is in the messages", () => {
    const messages = withToolResult([user("[SMS] change the price to 250k")], {
      session_id: SESSION,
      context: { price: "250k" },
    });
    const out = scriptedCompletion(request(messages));
    expect(out.choices[0]).toMatchObject({
      finish_reason: "stop",
      message: { content: "[sandbox model] Done: I've updated the price to 250k." },
    });
    expect(out.choices[0].message.tool_calls).toBeUndefined();
  });

  it("reads the context for a question about earlier, then answers from it", () => {
    const first = scriptedCompletion(request([user("[WhatsApp] What price did we agree?")]));
    expect(first.choices[0].message.tool_calls?.[0]).toMatchObject({
      function: { name: "session_get_context" },
    });
    const messages = withToolResult([user("[WhatsApp] What price did we agree?")], {
      session_id: SESSION,
      context: { price: "250k", delivery_day: "Friday" },
    });
    expect(scriptedCompletion(request(messages)).choices[0].message.content).toBe(
      "[sandbox model] The price on file is 250k.",
    );

    const general = withToolResult([user("What did we say earlier?")], {
      session_id: SESSION,
      context: { delivery_day: "Friday" },
    });
    expect(scriptedCompletion(request(general)).choices[0].message.content).toBe(
      "[sandbox model] Here is what I have on file: delivery day: Friday.",
    );
  });

  it("says so when a tool failed", () => {
    const messages = withToolResult([user("change the price to 250k")], {
      error: { code: "SESSION.NOT_FOUND", message: "gone" },
    });
    expect(scriptedCompletion(request(messages)).choices[0].message.content).toMatch(
      /^\[sandbox model\] Sorry/,
    );
  });

  it("echoes anything else, and never calls a tool without a session, without tools or with tool_choice none", () => {
    const echo = scriptedCompletion(request([user("[SMS] good morning")]));
    expect(echo.choices[0]).toMatchObject({
      finish_reason: "stop",
      message: { content: expect.stringContaining('"good morning"') },
    });
    expect(echo.choices[0].message.content).toMatch(/^\[sandbox model\] /);
    for (
      const req of [
        request([user("change the price to 250k")], { tool_choice: "none" }),
        request([user("change the price to 250k")], { tools: [] }),
        { model: "m", messages: [user("change the price to 250k")] },
      ]
    ) {
      expect(scriptedCompletion(req).choices[0].finish_reason).toBe("stop");
    }
  });

  it("recognises changes and questions", () => {
    expect(changeIn("could you change my delivery date to Friday 10:00, please")).toEqual({
      key: "delivery_date",
      value: "Friday 10:00",
    });
    expect(changeIn("change the price to 2.5k.")).toEqual({ key: "price", value: "2.5k" });
    expect(changeIn("Change the price to 250,000 RWF")).toEqual({
      key: "price",
      value: "250,000 RWF",
    });
    expect(changeIn("the price should be 300k")).toEqual({ key: "price", value: "300k" });
    expect(changeIn("hello")).toBeUndefined();
    expect(isQuestionAboutEarlier("what price did we agree?")).toBe(true);
    expect(isQuestionAboutEarlier("what price did we agree")).toBe(false);
  });
});
