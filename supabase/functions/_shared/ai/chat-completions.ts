import { AgentError } from "./errors.ts";

/**
 * OpenAI's chat-completions wire format (POST <base>/chat/completions), the part the agent
 * speaks: non-streaming, text and function tools. Any OpenAI-compatible server answers it (the
 * sandbox's scripted model, vLLM, Ollama, Azure's /openai/v1).
 *
 * One fetch per call and nothing else. The OpenAI SDK it replaces built each request through its
 * own layers (header merging, its encoder, request logging, retry bookkeeping) for retries the
 * agent turns off anyway (a failed reply gets the fallback); docs/BENCHMARKS.md has the CPU per
 * reply before and after.
 */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** A tool call as the model sends it: a function's name and its arguments as a JSON string. */
export type ToolCall =
  | { id: string; type: "function"; function: { name: string; arguments: string } }
  | { id: string; type: "custom"; custom: { name: string; input: string } };

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: FunctionTool[];
  tool_choice?: "none" | "auto";
}

/** choices[0].message of a chat.completion. */
export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
}

export interface ChatClient {
  /**
   * One completion. Rejects with an AgentError: AI.TIMEOUT once `signal` aborts (the body read
   * included), AI.UNREACHABLE when no answer came, AI.MODEL_ERROR for an HTTP error (its status
   * kept) or an answer that is not a chat completion.
   */
  complete(body: ChatRequest, signal: AbortSignal): Promise<AssistantMessage>;
}

export function createChatClient(opts: {
  apiKey: string;
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  fetch?: typeof fetch;
}): ChatClient {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const doFetch = opts.fetch ?? fetch;
  const headers = {
    authorization: `Bearer ${opts.apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  const timedOut = () =>
    new AgentError("AI.TIMEOUT", "The model did not answer within the time budget");

  return {
    async complete(body, signal) {
      let res: Response;
      try {
        res = await doFetch(url, { method: "POST", headers, body: JSON.stringify(body), signal });
      } catch {
        if (signal.aborted) throw timedOut();
        throw new AgentError("AI.UNREACHABLE", "The model endpoint could not be reached");
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new AgentError(
          "AI.MODEL_ERROR",
          `The model endpoint answered HTTP ${res.status}`,
          res.status,
        );
      }
      let answer: unknown;
      try {
        answer = await res.json();
      } catch {
        if (signal.aborted) throw timedOut();
        throw new AgentError("AI.MODEL_ERROR", "The model answered with a body that is not JSON");
      }
      return assistantMessage(answer);
    },
  };
}

/** choices[0].message, checked for the shape the agent reads. */
function assistantMessage(answer: unknown): AssistantMessage {
  const message = (answer as { choices?: { message?: unknown }[] } | null)?.choices?.[0]?.message;
  if (!message || typeof message !== "object") {
    throw new AgentError("AI.MODEL_ERROR", "The model answered without a choice");
  }
  const { content, tool_calls: calls } = message as { content?: unknown; tool_calls?: unknown };
  if (content !== undefined && content !== null && typeof content !== "string") {
    throw new AgentError("AI.MODEL_ERROR", "The model answered content that is not text");
  }
  if (calls !== undefined && calls !== null && !Array.isArray(calls)) {
    throw new AgentError("AI.MODEL_ERROR", "The model answered tool_calls that are not a list");
  }
  return {
    role: "assistant",
    content: content ?? null,
    ...(Array.isArray(calls) && calls.length > 0 ? { tool_calls: calls as ToolCall[] } : {}),
  };
}
