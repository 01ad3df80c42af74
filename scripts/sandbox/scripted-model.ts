import type OpenAI from "openai";
import {
  CHANNEL_LABELS,
  SESSION_CONTEXT_PREFIX,
} from "../../supabase/functions/_shared/ai/prompt.ts";

/**
 * The sandbox's scripted model: what answers chat completions when no OPENAI_API_KEY is set.
 * It is not an AI. It is a few fixed rules, clearly labelled (model "sandbox-scripted", every
 * answer starts with "[sandbox model]"), that exercise the same wire format and tool-call loop a
 * real model does:
 *
 * - "change the price to 250k" (or "change <thing> to <value>", or "price 250k") → a
 *   session_add_context tool call {key: "price", value: "250k"}; once the tool's result is in
 *   the messages, a confirmation.
 * - a question about what was said before ("what price did we agree?") → session_get_context,
 *   then an answer from the context it returned.
 * - anything else → a friendly echo.
 *
 * Conventions it reads from the agent's prompt (supabase/functions/_shared/ai/prompt.ts):
 * the session id comes from the system message that starts with SESSION_CONTEXT_PREFIX
 * followed by a JSON object with `session_id`; the person's messages start with their channel
 * tag ("[SMS] "), which is stripped. Without a session id it never calls a tool.
 */

export const SCRIPTED_MODEL = "sandbox-scripted";
const LABEL = "[sandbox model]";

type Request = OpenAI.ChatCompletionCreateParamsNonStreaming;
type Message = OpenAI.ChatCompletionMessageParam;
type ToolCall = OpenAI.ChatCompletionMessageFunctionToolCall;

interface Decision {
  content: string | null;
  toolCall?: { name: string; arguments: Record<string, unknown> };
}

export function scriptedCompletion(
  request: Request,
  now: () => Date = () => new Date(),
): OpenAI.ChatCompletion {
  const decision = decide(request);
  const toolCalls: ToolCall[] = decision.toolCall
    ? [{
      id: `call_${randomId()}`,
      type: "function",
      function: {
        name: decision.toolCall.name,
        arguments: JSON.stringify(decision.toolCall.arguments),
      },
    }]
    : [];
  const prompt = JSON.stringify(request.messages).length;
  const completion = (decision.content ?? "").length + JSON.stringify(toolCalls).length;
  return {
    id: `chatcmpl-sandbox-${randomId()}`,
    object: "chat.completion",
    created: Math.floor(now().getTime() / 1000),
    model: SCRIPTED_MODEL,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: decision.content,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop",
      logprobs: null,
    }],
    // Rough, like a tokenizer would count: about four characters a token.
    usage: {
      prompt_tokens: Math.ceil(prompt / 4),
      completion_tokens: Math.ceil(completion / 4),
      total_tokens: Math.ceil(prompt / 4) + Math.ceil(completion / 4),
    },
  };
}

function decide(request: Request): Decision {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  if (last?.role === "tool") return afterTool(messages, last);

  const text = lastUserText(messages);
  const sessionId = sessionIdOf(messages);
  const mayCallTools = sessionId !== undefined && request.tool_choice !== "none" &&
    (request.tools ?? []).some((t) =>
      t.type === "function" && t.function.name === "session_add_context"
    );
  if (text === undefined) return { content: `${LABEL} Hello! How can I help you today?` };

  const change = changeIn(text);
  if (change && mayCallTools) {
    return {
      content: null,
      toolCall: { name: "session_add_context", arguments: { session_id: sessionId, ...change } },
    };
  }
  if (isQuestionAboutEarlier(text) && mayCallTools) {
    return {
      content: null,
      toolCall: { name: "session_get_context", arguments: { session_id: sessionId } },
    };
  }
  return { content: `${LABEL} Thanks for your message! You said: "${text}". How else can I help?` };
}

/** The confirmation or answer once the tool's result is back. */
function afterTool(messages: Message[], result: OpenAI.ChatCompletionToolMessageParam): Decision {
  const call = findCall(messages, result.tool_call_id);
  const output = parse(typeof result.content === "string" ? result.content : "") as
    | { error?: { message?: string }; context?: Record<string, unknown> }
    | undefined;
  if (!call || output?.error) {
    return {
      content: `${LABEL} Sorry, I could not do that just now. A member of our team will follow up.`,
    };
  }
  const args = parse(call.function.arguments) as { key?: string; value?: unknown } | undefined;
  if (call.function.name === "session_add_context" && args?.key) {
    return {
      content: `${LABEL} Done: I've updated the ${args.key.replace(/_/g, " ")} to ${
        show(args.value)
      }.`,
    };
  }
  return { content: answerFrom(output?.context ?? {}, lastUserText(messages) ?? "") };
}

function answerFrom(context: Record<string, unknown>, question: string): string {
  const keys = Object.keys(context);
  if (keys.length === 0) return `${LABEL} I don't have anything on file from earlier yet.`;
  const asked = keys.find((k) =>
    question.toLowerCase().includes(k.replace(/_/g, " ").toLowerCase())
  );
  if (asked) return `${LABEL} The ${asked.replace(/_/g, " ")} on file is ${show(context[asked])}.`;
  const facts = keys.slice(0, 5).map((k) => `${k.replace(/_/g, " ")}: ${show(context[k])}`);
  return `${LABEL} Here is what I have on file: ${facts.join("; ")}.`;
}

// The value runs to the end of the clause; a "." or "," inside it (2.5k, 250,000) does not end it.
const CHANGE =
  /\bchange\s+(?:the\s+|my\s+|our\s+)?([a-z][a-z ]{0,40}?)\s+to\s+([^\s!?,;][^!?;]*?)\s*(?:[.,!?;](?:\s|$)|$)/i;
const PRICE = /\bprice\b\D{0,20}?(\d[\d.,]*\s*[a-z]{0,3})\b/i;

/** {key, value} when the text asks to change something. */
export function changeIn(text: string): { key: string; value: string } | undefined {
  const change = CHANGE.exec(text);
  if (change) return { key: snakeCase(change[1]), value: change[2].trim() };
  const price = PRICE.exec(text);
  if (price) return { key: "price", value: price[1].replace(/\s+/g, "") };
}

const EARLIER = /\b(what|which|when|where|remind|earlier|before|agreed|did we|do you have)\b/i;

export function isQuestionAboutEarlier(text: string): boolean {
  return text.includes("?") && EARLIER.test(text);
}

const TAG = new RegExp(`^\\[(?:${Object.values(CHANNEL_LABELS).join("|")})\\]\\s*`);

function lastUserText(messages: Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role === "user") return contentText(m.content).replace(TAG, "").trim();
  }
}

export function sessionIdOf(messages: Message[]): string | undefined {
  for (const m of messages) {
    if (m.role !== "system") continue;
    const text = contentText(m.content);
    if (!text.startsWith(SESSION_CONTEXT_PREFIX)) continue;
    const facts = parse(text.slice(SESSION_CONTEXT_PREFIX.length).split("\n")[0]) as {
      session_id?: unknown;
    } | undefined;
    if (typeof facts?.session_id === "string") return facts.session_id;
  }
}

function findCall(messages: Message[], id: string): ToolCall | undefined {
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    const call = m.tool_calls?.find((c) => c.id === id);
    if (call?.type === "function") return call;
  }
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === "object" && "text" in p ? String(p.text) : ""))
      .join("");
  }
  return "";
}

const snakeCase = (words: string) =>
  words.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
const randomId = () => crypto.randomUUID().replace(/-/g, "").slice(0, 24);

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
