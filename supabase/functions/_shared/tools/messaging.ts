import type OpenAI from "openai";
import type { Sql } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Logger } from "../log/logger.ts";
import type { SmsSender, WhatsAppSender } from "../notifications/dual-channel.ts";
import { formatSms } from "../notifications/sms-format.ts";
import { SessionNotRecipient, sendMessage, type SendMessageResult } from "../messaging/send-message.ts";
import { type Channel, createSessionStore, SessionNotFound } from "../session/omnichannel-session.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { getToolDefinitions, type ToolInput, type ToolName, toolSchemas } from "./schemas.ts";

/**
 * The 7 tools, executed: one entry point for the AI agent's tool-call loop and for the
 * `messaging-tools` function (agents that live elsewhere, e.g. the voice agent). Expected
 * failures (an unknown tool, arguments the schema rejects, a session that does not exist) come
 * back as a typed error value the model can read and correct, never as an exception.
 */

export interface ToolContext {
  sql: Sql;
  logger: Logger;
  whatsapp: WhatsAppSender;
  sms: SmsSender;
  whatsappTemplate?: { name: string; language: string };
  correlationId: string;
  /** The conversation the calling agent is in (logged with every call). */
  sessionId?: string;
  /** The channel the person is using now (logged with every call). */
  channel?: Channel;
  /**
   * The person (E.164) the agent is answering. When set, every tool acts for that person only:
   * another phone number or another person's session is refused (TOOL.OUT_OF_SCOPE), so a
   * message crafted by one person cannot make the agent read another's context or text strangers.
   */
  actingFor?: string;
  /** Makes sends idempotent: `<key>:<channel>` (the HTTP function uses the tool call id). */
  idempotencyKey?: string;
  /** The tools an operator left enabled (agent_tool_definitions.enabled); unset means all. */
  enabledTools?: ReadonlySet<string>;
}

export type ToolErrorCode =
  | "TOOL.UNKNOWN"
  | "TOOL.DISABLED"
  | "TOOL.INVALID_ARGUMENTS"
  | "TOOL.OUT_OF_SCOPE"
  | "SESSION.NOT_FOUND"
  | "SESSION.NOT_RECIPIENT"
  | "SESSION.CONFLICT";

export interface ToolIssue {
  path: string;
  message: string;
}

export interface ToolError {
  error: { code: ToolErrorCode; message: string; issues?: ToolIssue[] };
}

export type ToolResult = Record<string, unknown>;

export function isToolError(value: unknown): value is ToolError {
  const error = (value as { error?: { code?: unknown } } | null)?.error;
  return typeof error?.code === "string";
}

const toolError = (code: ToolErrorCode, message: string, issues?: ToolIssue[]): ToolError => ({
  error: { code, message, ...(issues ? { issues } : {}) },
});

/** The tools as OpenAI chat-completions `tools` (only the enabled ones when a set is given). */
export function getMessagingTools(enabled?: ReadonlySet<string>): OpenAI.ChatCompletionFunctionTool[] {
  return getToolDefinitions()
    .filter((d) => !enabled || enabled.has(d.name))
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
  if (!isToolName(name)) return toolError("TOOL.UNKNOWN", `There is no tool named ${JSON.stringify(name)}`);
  if (ctx.enabledTools && !ctx.enabledTools.has(name)) {
    return toolError("TOOL.DISABLED", `The tool ${name} is switched off`);
  }
  const raw = parseArguments(args);
  if (raw === undefined) return toolError("TOOL.INVALID_ARGUMENTS", "arguments are not a JSON object");
  const parsed = toolSchemas[name].input.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(arguments)", message: i.message }));
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
  }
}

// ------------------------------------------------------------------------------------ scope

function checkPhone(ctx: ToolContext, phone: string): ToolError | undefined {
  if (ctx.actingFor && phone !== ctx.actingFor) {
    return toolError("TOOL.OUT_OF_SCOPE", "In this conversation you can only act for the person you are talking to");
  }
}

/** With `actingFor`, the session must be that person's; without it, any session may be used. */
async function checkSession(ctx: ToolContext, sessionId: string | undefined): Promise<ToolError | undefined> {
  if (!ctx.actingFor || sessionId === undefined) return;
  const [row] = await ctx.sql<{ phone_number: string }[]>`
    select p.phone_number from public.omnichannel_sessions s
    join public.profiles p on p.id = s.profile_id where s.id = ${sessionId}`;
  if (!row) return sessionNotFound(sessionId);
  return checkPhone(ctx, row.phone_number);
}

const sessionNotFound = (id: string) =>
  toolError("SESSION.NOT_FOUND", `Session ${id} not found (a closed session cannot be changed)`);

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

function send(ctx: ToolContext, channel: SendChannel, to: string, body: string, sessionId?: string) {
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
  return notRecipient(async () => deliveryOf(await send(ctx, channel, input.phone_number, input.message, input.session_id)));
}

/** A session_id that is not the recipient's is refused by the database before anything is sent. */
async function notRecipient(work: () => Promise<ToolResult>): Promise<ToolResult | ToolError> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof SessionNotRecipient)) throw err;
    return toolError("SESSION.NOT_RECIPIENT", `${err.message}; use the recipient's own session or none`);
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

async function sendBothNow(ctx: ToolContext, input: ToolInput<"messaging_send_dual_channel">, smsBody: string) {
  const [whatsapp, sms] = await Promise.all([
    settle(ctx, "whatsapp", send(ctx, "whatsapp", input.phone_number, input.whatsapp_message, input.session_id)),
    settle(ctx, "sms", send(ctx, "sms", input.phone_number, smsBody, input.session_id)),
  ]);
  const sent = [whatsapp, sms].filter((d) => d.status === "sent").length;
  return { outcome: sent === 2 ? "sent" : sent === 1 ? "partial" : "failed", whatsapp, sms };
}

async function settle(ctx: ToolContext, channel: SendChannel, work: Promise<SendMessageResult>): Promise<ToolResult> {
  try {
    return deliveryOf(await work);
  } catch (err) {
    if (err instanceof SessionNotRecipient) throw err;
    ctx.logger.error("TOOL_SEND_CRASHED", {
      correlation_id: ctx.correlationId,
      channel,
      error: err instanceof Error ? err.message : String(err),
    });
    return {
      channel,
      status: "failed",
      error: { code: "SEND_ERROR", class: "retryable", message: "The send failed unexpectedly" },
    };
  }
}

// ----------------------------------------------------------------------------------- sessions

async function getOrCreate(ctx: ToolContext, input: ToolInput<"session_get_or_create">) {
  const refused = checkPhone(ctx, input.phone_number);
  if (refused) return refused;
  const s = await createSessionStore(ctx.sql).getOrCreate({
    phoneNumber: input.phone_number,
    channel: input.channel,
    callId: input.call_id,
    context: input.context,
    status: input.status,
  });
  return {
    session_id: s.sessionId,
    status: s.status,
    is_new: s.isNew,
    context: s.context,
    channels_seen: s.channelsSeen,
    expires_at: new Date(s.expiresAt).toISOString(),
  };
}

/** SessionNotFound and the one-live-session rule become typed errors; anything else is unexpected. */
async function sessionCall(
  sessionId: string,
  work: () => Promise<ToolResult>,
): Promise<ToolResult | ToolError> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SessionNotFound) return sessionNotFound(sessionId);
    if (isUniqueViolation(err)) {
      return toolError("SESSION.CONFLICT", "The person already has another live session; use that one");
    }
    throw err;
  }
}

async function updateStatus(ctx: ToolContext, input: ToolInput<"session_update_status">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => {
    const row = await createSessionStore(ctx.sql).updateStatus(input.session_id, input.status);
    return { session_id: row.id, status: row.status };
  });
}

async function addContext(ctx: ToolContext, input: ToolInput<"session_add_context">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => {
    const row = await createSessionStore(ctx.sql).mergeContext(input.session_id, { [input.key]: input.value });
    return { session_id: row.id, context: row.context };
  });
}

async function getContext(ctx: ToolContext, input: ToolInput<"session_get_context">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => ({
    session_id: input.session_id,
    context: await createSessionStore(ctx.sql).getContext(input.session_id),
  }));
}
