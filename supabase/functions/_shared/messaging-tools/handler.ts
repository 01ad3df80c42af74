import { z } from "zod";
import type { OutboundDeps } from "../outbound/send.ts";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, HttpError, methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { isToolError, type ToolError } from "../tools/context.ts";
import { enabledToolNames, executeMessagingTool, getMessagingTools } from "../tools/messaging.ts";

export interface MessagingToolsDeps extends OutboundDeps {
  auth: AuthConfig;
}

const Args = z.union([z.string(), z.record(z.string(), z.unknown())]).optional();

/** `{name, arguments}`, or an OpenAI `tool_calls` entry as the model produced it. */
const Body = z.union([
  z.object({
    id: z.string().min(1).max(200),
    type: z.literal("function"),
    function: z.object({ name: z.string().min(1).max(100), arguments: Args }),
  }),
  z.object({ name: z.string().min(1).max(100), arguments: Args }),
]);

/** The errors that mean "this call cannot run as asked"; a tool's own error is its result. */
const CALL_ERRORS: Record<string, number> = {
  "TOOL.INVALID_ARGUMENTS": 400,
  "TOOL.UNKNOWN": 404,
  "TOOL.DISABLED": 404,
  "SESSION.NOT_RECIPIENT": 403,
};

/**
 * The 8 tools over HTTP, secret key (or legacy service role) only, for agents that live elsewhere (the voice agent):
 * `GET` lists the enabled tools as OpenAI function tools; `POST` runs one and answers
 * `{tool_call_id?, name, result}`. A tool_calls entry's id is the idempotency key of its sends.
 */
export function createMessagingToolsHandler(deps: MessagingToolsDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "GET" && req.method !== "POST") throw methodNotAllowed(["GET", "POST"]);
    await authenticate(req, deps.auth);
    const enabled = await enabledToolNames(deps.sql);
    if (req.method === "GET") return json({ tools: getMessagingTools(enabled) });
    return await run(deps, req, correlationId, enabled);
  });
}

async function run(
  deps: MessagingToolsDeps,
  req: Request,
  correlationId: string,
  enabled: Set<string>,
) {
  const parsed = Body.safeParse(parseJson(await readRawBody(req)));
  if (!parsed.success) {
    throw badRequest(
      "VALIDATION.INVALID_BODY",
      'Send {name, arguments} or a tool_calls entry {id, type: "function", function: {name, arguments}}',
    );
  }
  const call = "function" in parsed.data
    ? { id: parsed.data.id, name: parsed.data.function.name, args: parsed.data.function.arguments }
    : { id: undefined, name: parsed.data.name, args: parsed.data.arguments };

  // The whole outbound deps (senders and their pacer) go to the tool, never a hand-picked subset.
  const { auth: _auth, ...outbound } = deps;
  const result = await executeMessagingTool(call.name, call.args, {
    ...outbound,
    correlationId,
    enabledTools: enabled,
    ...(call.id ? { idempotencyKey: `tool_call:${call.id}` } : {}),
  });
  if (isToolError(result) && result.error.code in CALL_ERRORS) throw callError(result);
  return json({ ...(call.id ? { tool_call_id: call.id } : {}), name: call.name, result });
}

function callError({ error }: ToolError): HttpError {
  return new HttpError(
    CALL_ERRORS[error.code],
    error.code,
    error.message,
    error.issues ? { issues: error.issues } : undefined,
  );
}
