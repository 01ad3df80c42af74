import type OpenAI from "openai";
import { z } from "zod";
import { headerSubset, json, parseJson, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";
import { SCRIPTED_MODEL, scriptedCompletion } from "./scripted-model.ts";

/**
 * OpenAI's chat completions, answered by the scripted model (scripted-model.ts) for a stack
 * without OPENAI_API_KEY: `POST /openai/v1/chat/completions` (no key needed, no streaming) and
 * `GET /openai/v1/models`. Errors in OpenAI's shape `{error: {message, type, param, code}}`.
 */

const ChatRequest = z.object({
  model: z.string().min(1),
  messages: z.array(
    z.object({ role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]) })
      .loose(),
  ).min(1),
  stream: z.boolean().nullish(),
  tools: z.array(z.object({ type: z.string() }).loose()).optional(),
}).loose();

// Its release date; OpenAI lists a model with the time it was created.
const CREATED = Math.floor(Date.UTC(2026, 10, 1) / 1000);

const openaiError = (
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
) => json({ error: { message, type, param, code } }, status);

const invalid = (message: string, param: string | null = null, code: string | null = null) =>
  openaiError(400, message, "invalid_request_error", param, code);

function refusal(error: z.ZodError): Response {
  const issue = error.issues[0];
  const param = issue.path.map((
    p,
    i,
  ) => (typeof p === "number" ? `[${p}]` : i ? `.${String(p)}` : String(p))).join("");
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return invalid(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  }
  return invalid(`Invalid value for '${param}': ${issue.message}.`, param || null, "invalid_value");
}

async function complete(req: Request, ctx: SandboxContext): Promise<Response> {
  const raw = await readText(req);
  const body = raw === null ? undefined : parseJson(raw);
  if (body === undefined) {
    return invalid(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  const parsed = ChatRequest.safeParse(body);
  if (!parsed.success) return refusal(parsed.error);
  if (parsed.data.stream) {
    return invalid(
      "The sandbox's scripted model does not stream; send stream: false.",
      "stream",
      "unsupported_value",
    );
  }
  let completion: OpenAI.ChatCompletion;
  try {
    completion = scriptedCompletion(body as OpenAI.ChatCompletionCreateParamsNonStreaming, ctx.now);
  } catch (err) {
    return invalid(
      `The scripted model could not read the messages: ${err instanceof Error ? err.message : err}`,
      "messages",
    );
  }
  const message = completion.choices[0].message;
  ctx.messages.record({
    id: completion.id,
    provider: "openai",
    channel: "ai",
    to: SCRIPTED_MODEL,
    from: parsed.data.model,
    body: message.content ?? (message.tool_calls ?? []).map(describeCall).join("\n"),
    request_body: raw ?? "",
    headers: headerSubset(req),
    received_at: ctx.now().toISOString(),
  });
  return json(completion);
}

function describeCall(call: OpenAI.ChatCompletionMessageToolCall): string {
  return call.type === "function"
    ? `tool call ${call.function.name} ${call.function.arguments}`
    : `tool call ${call.custom.name}`;
}

export const openai: ProviderEndpoint = {
  name: "openai",
  handle(req, path, ctx) {
    const route = `${req.method} ${path}`;
    if (route === "POST /v1/chat/completions") return complete(req, ctx);
    if (route === "GET /v1/models") {
      return Promise.resolve(json({
        object: "list",
        data: [{ id: SCRIPTED_MODEL, object: "model", created: CREATED, owned_by: "sandbox" }],
      }));
    }
    return Promise.resolve(
      openaiError(404, `Invalid URL (${req.method} ${path})`, "invalid_request_error"),
    );
  },
  failure: (status) =>
    status === 429
      ? openaiError(429, "Rate limit reached for requests", "requests", null, "rate_limit_exceeded")
      : openaiError(
        status,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
      ),
};
