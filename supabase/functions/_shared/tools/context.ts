import type { OutboundDeps } from "../outbound/send.ts";
import type { Channel } from "../session/omnichannel-session.ts";

/** What every tool runs with, its typed errors, and the checks that keep a tool to its person. */

/** The outbound deps travel whole, so a context rebuilt elsewhere cannot drop its pacing. */
export interface ToolContext extends OutboundDeps {
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
  /**
   * Hands the conversation to human agents (genesys/handoff.ts). Set by the reply path for a
   * WhatsApp number routed `ai_then_agent`; unset, `conversation_handoff` is refused.
   */
  handoff?: (request: HandoffRequest) => Promise<HandoffResult>;
}

/** What the AI asks for when it hands a conversation to human agents. */
export interface HandoffRequest {
  sessionId: string;
  reason: string;
  summary?: string;
}

export interface HandoffResult {
  handoffId: string;
  /** False: the conversation was already with the agents. */
  isNew: boolean;
}

export type ToolErrorCode =
  | "TOOL.UNKNOWN"
  | "TOOL.DISABLED"
  | "TOOL.INVALID_ARGUMENTS"
  | "TOOL.OUT_OF_SCOPE"
  | "SESSION.NOT_FOUND"
  | "SESSION.NOT_RECIPIENT"
  | "SESSION.CONFLICT"
  | "HANDOFF.NOT_AVAILABLE";

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

export const toolError = (
  code: ToolErrorCode,
  message: string,
  issues?: ToolIssue[],
): ToolError => ({
  error: { code, message, ...(issues ? { issues } : {}) },
});

/** The tools as OpenAI chat-completions `tools` (only the enabled ones when a set is given). */
export function checkPhone(ctx: ToolContext, phone: string): ToolError | undefined {
  if (ctx.actingFor && phone !== ctx.actingFor) {
    return toolError(
      "TOOL.OUT_OF_SCOPE",
      "In this conversation you can only act for the person you are talking to",
    );
  }
}

/** With `actingFor`, the session must be that person's; without it, any session may be used. */
export async function checkSession(
  ctx: ToolContext,
  sessionId: string | undefined,
): Promise<ToolError | undefined> {
  if (!ctx.actingFor || sessionId === undefined) return;
  // The person may be known by another identity than a phone (an email address they wrote from).
  const [row] = await ctx.sql<{ phone_number: string | null; holds: boolean }[]>`
    select p.phone_number, exists (
      select 1 from public.profile_identities i
      where i.profile_id = p.id and i.value = ${ctx.actingFor}) as holds
    from public.omnichannel_sessions s
    join public.profiles p on p.id = s.profile_id where s.id = ${sessionId}`;
  if (!row) return sessionNotFound(sessionId);
  if (row.holds) return;
  return checkPhone(ctx, row.phone_number ?? "");
}

export const sessionNotFound = (id: string) =>
  toolError("SESSION.NOT_FOUND", `Session ${id} not found (a closed session cannot be changed)`);
