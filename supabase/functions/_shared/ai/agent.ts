import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { OutboundDeps } from "../outbound/send.ts";
import type { ToolContext } from "../tools/context.ts";
import { enabledToolNames, executeMessagingTool, getMessagingTools } from "../tools/messaging.ts";
import { AgentError } from "./errors.ts";
import {
  type AssistantMessage,
  type ChatClient,
  type ChatMessage,
  type ChatRequest,
  createChatClient,
} from "./chat-completions.ts";
import {
  type HistoryEntry,
  historyMessages,
  type ReplyChannel,
  sessionContextMessage,
  type SessionSnapshot,
} from "./prompt.ts";

/** The agent's tools send through the one outbound path, paced like every other send. */
export interface AgentDeps extends OutboundDeps {
  now?: () => number;
}

export interface AgentConfig {
  /** Unset: a placeholder key (OpenAI-compatible servers such as the sandbox need none). */
  apiKey?: string;
  baseUrl: string;
  model: string;
  fetch?: typeof fetch;
  /** Model calls per reply, the last one without tools so it must answer. Default 5. */
  maxModelCalls?: number;
  /** For the whole reply: every model call and tool call. Default 20 s. */
  timeBudgetMs?: number;
  /** Messages of history, from every channel. Default 20. */
  historyLimit?: number;
  /**
   * How long this agent (one per isolate) keeps the instructions and the enabled tools it read,
   * before reading them again. Default 30 s: an edit in the console is live within that.
   */
  cacheTtlMs?: number;
}

export interface AgentInput {
  sessionId: string;
  /** Where the answer goes back. */
  channel: ReplyChannel;
  /**
   * E.164: the person the agent answers, and the only one its tools may act for (a Messenger or
   * Instagram person without a phone number: `<channel>:<id>`, which no phone tool matches; an
   * email sender without one: their address).
   */
  phoneNumber: string;
  correlationId: string;
  /** The session and its history, when the caller read them already (claim_inbound_reply_context). */
  preloaded?: { session: SessionSnapshot; history: HistoryEntry[] };
  /** Set where human agents can take over (routing ai_then_agent): `conversation_handoff` runs it. */
  handoff?: ToolContext["handoff"];
}

export interface AgentReply {
  text: string;
  modelCalls: number;
  /** The tools called, in order. */
  tools: string[];
}

export interface Agent {
  /** The answer to the conversation's latest messages; rejects with an AgentError. */
  reply(input: AgentInput): Promise<AgentReply>;
}

const PLACEHOLDER_KEY = "no-key-needed";
const AGENT_KEY = "call_center";

/**
 * The call-center agent over OpenAI chat completions: its instructions from the database, the
 * session context and the cross-channel history as the prompt, and the 8 tools run through
 * executeMessagingTool in a bounded loop (calls and time). No retries inside: a failure is
 * answered by the caller's fallback, which is better than a person waiting a minute.
 */
export function createAgent(deps: AgentDeps, config: AgentConfig): Agent {
  const now = deps.now ?? Date.now;
  const maxModelCalls = config.maxModelCalls ?? 5;
  const budgetMs = config.timeBudgetMs ?? 20_000;
  // Without a key, only api.openai.com is sure to refuse: fail before spending the time.
  const unconfigured = !config.apiKey && new URL(config.baseUrl).hostname === "api.openai.com";
  const client = createChatClient({
    apiKey: config.apiKey ?? PLACEHOLDER_KEY,
    baseUrl: config.baseUrl,
    fetch: config.fetch,
  });

  // The instructions and the enabled tools, read once per cacheTtlMs by this isolate's agent.
  const ttlMs = config.cacheTtlMs ?? 30_000;
  let setup: { at: number; value: Promise<[string, Set<string>]> } | null = null;
  const agentSetup = (): Promise<[string, Set<string>]> => {
    if (!setup || now() - setup.at >= ttlMs) {
      const value = Promise.all([loadInstructions(deps.sql), enabledToolNames(deps.sql)]);
      const entry = { at: now(), value };
      setup = entry;
      value.catch(() => {
        if (setup === entry) setup = null;
      });
    }
    return setup.value;
  };

  async function reply(input: AgentInput): Promise<AgentReply> {
    if (unconfigured) throw new AgentError("AI.NOT_CONFIGURED", "OPENAI_API_KEY is not set");
    const deadline = now() + budgetMs;
    const log = deps.logger.child({
      correlation_id: input.correlationId,
      session_id: input.sessionId,
    });
    const [[instructions, enabled], session, history] = await Promise.all([
      agentSetup(),
      input.preloaded?.session ?? loadSession(deps.sql, input.sessionId),
      input.preloaded?.history ?? loadHistory(deps.sql, input.sessionId, config.historyLimit ?? 20),
    ]);
    // conversation_handoff only where human agents can take over (routing ai_then_agent).
    const tools = getMessagingTools(enabled, { handoff: input.handoff !== undefined });
    const ctx: ToolContext = {
      ...deps,
      correlationId: input.correlationId,
      sessionId: input.sessionId,
      channel: input.channel,
      actingFor: input.phoneNumber,
      enabledTools: enabled,
      handoff: input.handoff,
    };
    const messages: ChatMessage[] = [
      { role: "system", content: instructions },
      { role: "system", content: sessionContextMessage(session, input.channel) },
      ...historyMessages(history),
    ];
    const called: string[] = [];

    for (let call = 1; call <= maxModelCalls; call++) {
      const last = call === maxModelCalls;
      const message = await complete(client, {
        model: config.model,
        messages,
        ...(tools.length > 0 ? { tools, tool_choice: last ? "none" : "auto" } : {}),
      }, deadline - now());
      const toolCalls = message.tool_calls ?? [];
      if (toolCalls.length === 0 || last) {
        const text = message.content?.trim();
        if (!text) throw new AgentError("AI.EMPTY_REPLY", "The model answered without text");
        log.info("AI_AGENT_REPLIED", { model_calls: call, tools: called });
        return { text, modelCalls: call, tools: called };
      }
      messages.push({ role: "assistant", content: message.content ?? null, tool_calls: toolCalls });
      // One after another: a later call may depend on an earlier one (get_or_create, then add).
      for (const toolCall of toolCalls) {
        const name = toolCall.type === "function" ? toolCall.function.name : toolCall.custom.name;
        const args = toolCall.type === "function"
          ? toolCall.function.arguments
          : toolCall.custom.input;
        called.push(name);
        const result = await executeMessagingTool(name, args, ctx);
        messages.push({ role: "tool", tool_call_id: toolCall.id, content: JSON.stringify(result) });
      }
    }
    // The last model call is made without tools and returns above.
    throw new AgentError("AI.EMPTY_REPLY", "No answer after the last model call");
  }

  return { reply };
}

/** One chat completion within what is left of the budget; our own abort covers body reads too. */
async function complete(
  client: ChatClient,
  body: ChatRequest,
  remainingMs: number,
): Promise<AssistantMessage> {
  if (remainingMs <= 0) throw new AgentError("AI.TIMEOUT", "The time budget ran out between steps");
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), remainingMs);
  try {
    return await client.complete(body, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function loadInstructions(sql: Sql): Promise<string> {
  const [row] = await sql<{ instructions: string }[]>`
    select instructions from public.agent_instructions where agent_key = ${AGENT_KEY}`;
  if (!row) {
    throw new AgentError("AI.NO_INSTRUCTIONS", `No agent_instructions row for ${AGENT_KEY}`);
  }
  return row.instructions.trim();
}

async function loadSession(sql: Sql, sessionId: string): Promise<SessionSnapshot> {
  const [row] = await sql<SessionRow[]>`
    select s.id, s.status, s.context, s.channels_seen, p.phone_number, p.display_name
    from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
    where s.id = ${sessionId}`;
  if (!row) throw new AgentError("AI.SESSION_NOT_FOUND", `Session ${sessionId} not found`);
  return sessionSnapshotOf(row);
}

/** A session row joined with its profile, as loadSession and claim_inbound_reply_context read it. */
export interface SessionRow {
  id: string;
  status: string;
  context: unknown;
  channels_seen: unknown;
  phone_number: string | null;
  display_name: string | null;
}

/** The agent's view of a session row (loadSession, or a preloaded row). */
export function sessionSnapshotOf(row: SessionRow): SessionSnapshot {
  return {
    sessionId: row.id,
    phoneNumber: row.phone_number as string,
    displayName: row.display_name,
    status: row.status,
    context: row.context as SessionSnapshot["context"],
    channelsSeen: row.channels_seen as SessionSnapshot["channelsSeen"],
  };
}

async function loadHistory(sql: Sql, sessionId: string, limit: number): Promise<HistoryEntry[]> {
  const rows = await rpc(sql, "get_session_history", { p_session_id: sessionId, p_limit: limit });
  return rows.map(({ channel, direction, body }) => ({ channel, direction, body }) as HistoryEntry);
}
