import type { FunctionTool } from "../ai/chat-completions.ts";
import type { Sql } from "../db/client.ts";
import { sendCrashed } from "../outbound/dual-channel.ts";
import { formatSms } from "../notifications/sms-format.ts";
import {
  sendMessage,
  type SendMessageResult,
  SessionNotRecipient,
} from "../outbound/send-message.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { getToolDefinitions, type ToolInput, type ToolName, toolSchemas } from "./schemas.ts";
import {
  checkPhone,
  checkSession,
  isToolError,
  type ToolContext,
  type ToolError,
  toolError,
  type ToolResult,
} from "./context.ts";
import { addContext, getContext, getOrCreate, handOff, updateStatus } from "./session.ts";

/**
 * The 8 tools, executed, and the 3 messaging tools (the 4 session tools and the handoff are session.ts): one entry point for the AI agent's tool-call loop and for the
 * `messaging-tools` function (agents that live elsewhere, e.g. the voice agent). Expected
 * failures (an unknown tool, arguments the schema rejects, a session that does not exist) come
 * back as a typed error value the model can read and correct, never as an exception.
 */

/** Built once per isolate: z.toJSONSchema over every schema costs ~0.3 ms on each reply otherwise. */
let definitions: ReturnType<typeof getToolDefinitions> | undefined;

/**
 * The tools as OpenAI chat-completions `tools` (only the enabled ones when a set is given);
 * `conversation_handoff` only with `handoff` (a reply where human agents can take over).
 */
export function getMessagingTools(
  enabled?: ReadonlySet<string>,
  opts: { handoff?: boolean } = {},
): FunctionTool[] {
  return (definitions ??= getToolDefinitions())
    .filter((d) => !enabled || enabled.has(d.name))
    .filter((d) => opts.handoff || d.name !== "conversation_handoff")
    .map((d) => ({
      type: "function",
      function: { name: d.name, description: d.description, parameters: d.parameters },
    }));
}

/** The names an operator left enabled in public.agent_tool_definitions. */
export async function enabledToolNames(sql: Sql): Promise<Set<string>> {
  const rows = await sql<{ name: string }[]>`
    select name from public.agent_tool_definitions where enabled`;
  return new Set(rows.map((r) => r.name));
}

const isToolName = (name: string): name is ToolName => Object.hasOwn(toolSchemas, name);

/**
 * Validates `args` (an object, or the JSON string a model sends) with the tool's zod schema and
 * runs the tool. Resolves to the tool's JSON result or a ToolError; rejects only on the
 * unexpected (the database unreachable).
 */
export async function executeMessagingTool(
  name: string,
  args: unknown,
  ctx: ToolContext,
): Promise<ToolResult | ToolError> {
  if (!isToolName(name)) {
    return toolError("TOOL.UNKNOWN", `There is no tool named ${JSON.stringify(name)}`);
  }
  if (ctx.enabledTools && !ctx.enabledTools.has(name)) {
    return toolError("TOOL.DISABLED", `The tool ${name} is switched off`);
  }
  const raw = parseArguments(args);
  if (raw === undefined) {
    return toolError("TOOL.INVALID_ARGUMENTS", "arguments are not a JSON object");
  }
  const parsed = toolSchemas[name].input.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.join(".") || "(arguments)",
      message: i.message,
    }));
    return toolError(
      "TOOL.INVALID_ARGUMENTS",
      `Invalid arguments for ${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      issues,
    );
  }

  const result = await run(name, parsed.data, ctx);
  ctx.logger.info("TOOL_EXECUTED", {
    correlation_id: ctx.correlationId,
    tool: name,
    session_id: ctx.sessionId,
    channel: ctx.channel,
    ...(isToolError(result) ? { error_code: result.error.code } : {}),
  });
  return result;
}

function parseArguments(args: unknown): Record<string, unknown> | undefined {
  let value = args ?? {};
  if (typeof value === "string") {
    try {
      value = value.trim() === "" ? {} : JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  // A model's arguments (or a JSON string inside a JSON body) are input like any other.
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? pgSafe(value as Record<string, unknown>)
    : undefined;
}

function run(name: ToolName, input: unknown, ctx: ToolContext): Promise<ToolResult | ToolError> {
  switch (name) {
    case "messaging_send_whatsapp":
      return sendOne(ctx, "whatsapp", input as ToolInput<"messaging_send_whatsapp">);
    case "messaging_send_sms":
      return sendOne(ctx, "sms", input as ToolInput<"messaging_send_sms">);
    case "messaging_send_dual_channel":
      return sendBoth(ctx, input as ToolInput<"messaging_send_dual_channel">);
    case "session_get_or_create":
      return getOrCreate(ctx, input as ToolInput<"session_get_or_create">);
    case "session_update_status":
      return updateStatus(ctx, input as ToolInput<"session_update_status">);
    case "session_add_context":
      return addContext(ctx, input as ToolInput<"session_add_context">);
    case "session_get_context":
      return getContext(ctx, input as ToolInput<"session_get_context">);
    case "conversation_handoff":
      return handOff(ctx, input as ToolInput<"conversation_handoff">);
  }
}

// ---------------------------------------------------------------------------------- messaging

type SendChannel = "whatsapp" | "sms";

function deliveryOf(r: SendMessageResult): ToolResult {
  return {
    channel: r.channel,
    status: r.status,
    delivery_id: r.deliveryId,
    ...(r.providerMessageId ? { provider_message_id: r.providerMessageId } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

function send(
  ctx: ToolContext,
  channel: SendChannel,
  to: string,
  body: string,
  sessionId?: string,
) {
  return sendMessage(ctx, {
    channel,
    to,
    body,
    sessionId: sessionId ?? null,
    purpose: "tool",
    correlationId: ctx.correlationId,
    ...(ctx.idempotencyKey ? { idempotencyKey: `${ctx.idempotencyKey}:${channel}` } : {}),
  });
}

async function sendOne(
  ctx: ToolContext,
  channel: SendChannel,
  input: { phone_number: string; message: string; session_id?: string },
): Promise<ToolResult | ToolError> {
  const refused = checkPhone(ctx, input.phone_number) ?? await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return notRecipient(async () =>
    deliveryOf(await send(ctx, channel, input.phone_number, input.message, input.session_id))
  );
}

/** A session_id that is not the recipient's is refused by the database before anything is sent. */
async function notRecipient(work: () => Promise<ToolResult>): Promise<ToolResult | ToolError> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof SessionNotRecipient)) throw err;
    return toolError(
      "SESSION.NOT_RECIPIENT",
      `${err.message}; use the recipient's own session or none`,
    );
  }
}

/**
 * Both channels in parallel, each logged on its own row: one failing, or even throwing, never
 * stops the other, and the result reports each.
 */
async function sendBoth(
  ctx: ToolContext,
  input: ToolInput<"messaging_send_dual_channel">,
): Promise<ToolResult | ToolError> {
  const refused = checkPhone(ctx, input.phone_number) ?? await checkSession(ctx, input.session_id);
  if (refused) return refused;
  const smsBody = input.sms_message ?? formatSms(input.whatsapp_message, { maxSegments: 3 }).text;
  return notRecipient(() => sendBothNow(ctx, input, smsBody));
}

async function sendBothNow(
  ctx: ToolContext,
  input: ToolInput<"messaging_send_dual_channel">,
  smsBody: string,
) {
  const [whatsapp, sms] = await Promise.all([
    settle(
      ctx,
      "whatsapp",
      send(ctx, "whatsapp", input.phone_number, input.whatsapp_message, input.session_id),
    ),
    settle(ctx, "sms", send(ctx, "sms", input.phone_number, smsBody, input.session_id)),
  ]);
  const sent = [whatsapp, sms].filter((d) => d.status === "sent").length;
  return { outcome: sent === 2 ? "sent" : sent === 1 ? "partial" : "failed", whatsapp, sms };
}

async function settle(
  ctx: ToolContext,
  channel: SendChannel,
  work: Promise<SendMessageResult>,
): Promise<ToolResult> {
  try {
    return deliveryOf(await work);
  } catch (err) {
    if (err instanceof SessionNotRecipient) throw err;
    ctx.logger.error("TOOL_SEND_CRASHED", {
      correlation_id: ctx.correlationId,
      channel,
      error: err instanceof Error ? err.message : String(err),
    });
    const { error } = sendCrashed(channel);
    return {
      channel,
      status: "failed",
      error: { code: error.code, class: error.class, message: error.message },
    };
  }
}
