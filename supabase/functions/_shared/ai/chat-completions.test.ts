import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatRequest, createChatClient } from "./chat-completions.ts";
import type { AgentError } from "./errors.ts";

/** What the server answers next: a status and a raw body. */
let next: { status: number; body: string; delayMs?: number } = { status: 200, body: "{}" };
const seen: { path: string; headers: Record<string, unknown>; body: unknown }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(raw) });
      setTimeout(() => {
        res.writeHead(next.status, { "content-type": "application/json" });
        res.end(next.body);
      }, next.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const request: ChatRequest = {
  model: "gpt-test",
  messages: [{ role: "system", content: "be brief" }, { role: "user", content: "[SMS] hi" }],
  tools: [{ type: "function", function: { name: "t", parameters: { type: "object" } } }],
  tool_choice: "auto",
};

const answer = (message: unknown) =>
  JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-test",
    choices: [{ index: 0, message, finish_reason: "stop" }],
  });

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as AgentError;
  }
  throw new Error("expected a rejection");
};

describe("the chat-completions client", () => {
  const client = () => createChatClient({ apiKey: "sk-test", baseUrl });

  it("posts the request as OpenAI takes it and returns the first choice's message", async () => {
    const toolCalls = [{
      id: "call_1",
      type: "function",
      function: { name: "t", arguments: '{"a":1}' },
    }];
    next = {
      status: 200,
      body: answer({ role: "assistant", content: null, tool_calls: toolCalls }),
    };
    const message = await client().complete(request, new AbortController().signal);
    expect(message).toEqual({ role: "assistant", content: null, tool_calls: toolCalls });
    const last = seen.at(-1)!;
    expect(last.path).toBe("/v1/chat/completions");
    expect(last.headers.authorization).toBe("Bearer sk-test");
    expect(last.headers["content-type"]).toBe("application/json");
    expect(last.body).toEqual(request);
  });

  it("an HTTP error is AI.MODEL_ERROR with its status", async () => {
    next = { status: 429, body: JSON.stringify({ error: { message: "Rate limit" } }) };
    expect(await failure(client().complete(request, new AbortController().signal)))
      .toMatchObject({ code: "AI.MODEL_ERROR", httpStatus: 429 });
  });

  it("an answer that is not a chat completion is AI.MODEL_ERROR, not a crash later", async () => {
    for (
      const body of [
        "<html>gateway</html>",
        JSON.stringify({ choices: [] }),
        answer({ role: "assistant", content: { text: "hi" } }),
        answer({ role: "assistant", content: "hi", tool_calls: "none" }),
      ]
    ) {
      next = { status: 200, body };
      expect((await failure(client().complete(request, new AbortController().signal))).code)
        .toBe("AI.MODEL_ERROR");
    }
  });

  it("an abort is AI.TIMEOUT; nothing listening is AI.UNREACHABLE", async () => {
    next = { status: 200, body: answer({ role: "assistant", content: "late" }), delayMs: 500 };
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect((await failure(client().complete(request, ac.signal))).code).toBe("AI.TIMEOUT");

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const nowhere = createChatClient({ apiKey: "k", baseUrl: `http://127.0.0.1:${port}/v1` });
    expect((await failure(nowhere.complete(request, new AbortController().signal))).code)
      .toBe("AI.UNREACHABLE");
  });
});
