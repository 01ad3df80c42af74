import type OpenAI from "openai";
import { serve } from "./serve.ts";

/**
 * A local OpenAI-compatible chat-completions server for tests: `POST /v1/chat/completions`
 * answers from a script (a reply with text and/or tool_calls, an HTTP error, a delay), and when
 * nothing is scripted, from `otherwise` (e.g. the sandbox's scriptedCompletion). It records
 * every request body, so tests assert what the model was shown.
 */

export type ChatRequest = OpenAI.ChatCompletionCreateParamsNonStreaming;

export interface ScriptedToolCall {
  name: string;
  /** An object (sent JSON-encoded, as OpenAI does) or a raw string (e.g. malformed JSON). */
  arguments: unknown;
  id?: string;
}

export type FakeOpenAIStep =
  | { content?: string | null; toolCalls?: ScriptedToolCall[]; delayMs?: number }
  | { status: number; body?: unknown; delayMs?: number };

export interface FakeOpenAI {
  /** For OPENAI_BASE_URL: `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  requests: ChatRequest[];
  /** The Authorization header of each request. */
  authorizations: (string | null)[];
  /** Queues answers for the next requests, in order. */
  replyNext(...steps: FakeOpenAIStep[]): void;
  reset(): void;
  close(): Promise<void>;
}

let counter = 0;

/** A chat.completion body as OpenAI sends it. */
export function completion(
  content: string | null,
  toolCalls: ScriptedToolCall[] = [],
): OpenAI.ChatCompletion {
  const calls: OpenAI.ChatCompletionMessageFunctionToolCall[] = toolCalls.map((c) => ({
    id: c.id ?? `call_fake_${++counter}`,
    type: "function",
    function: {
      name: c.name,
      arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
    },
  }));
  return {
    id: `chatcmpl-fake-${++counter}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: "fake-model",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content,
        refusal: null,
        ...(calls.length ? { tool_calls: calls } : {}),
      },
      finish_reason: calls.length ? "tool_calls" : "stop",
      logprobs: null,
    }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

/** OpenAI's error body. */
export function openaiError(
  status: number,
  message = "The server had an error while processing your request.",
): FakeOpenAIStep {
  return { status, body: { error: { message, type: "server_error", param: null, code: null } } };
}

export async function startFakeOpenAI(
  opts: { otherwise?: (request: ChatRequest) => OpenAI.ChatCompletion } = {},
): Promise<FakeOpenAI> {
  const requests: ChatRequest[] = [];
  const authorizations: (string | null)[] = [];
  const queue: FakeOpenAIStep[] = [];
  const otherwise = opts.otherwise ?? (() => completion("Fake answer."));

  const server = await serve(async (req) => {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      return Response.json({
        error: { message: `Unknown path ${url.pathname}`, type: "invalid_request_error" },
      }, {
        status: 404,
      });
    }
    let body: ChatRequest;
    try {
      body = await req.json();
    } catch {
      return Response.json({
        error: {
          message: "We could not parse the JSON body of your request.",
          type: "invalid_request_error",
        },
      }, { status: 400 });
    }
    requests.push(body);
    authorizations.push(req.headers.get("authorization"));
    const step = queue.shift();
    if (step?.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step && "status" in step) return Response.json(step.body ?? null, { status: step.status });
    const answer = step ? completion(step.content ?? null, step.toolCalls) : otherwise(body);
    return Response.json(answer);
  });

  return {
    baseUrl: `${server.url}/v1`,
    requests,
    authorizations,
    replyNext: (...steps) => queue.push(...steps),
    reset: () => {
      requests.length = 0;
      authorizations.length = 0;
      queue.length = 0;
    },
    close: server.close,
  };
}
