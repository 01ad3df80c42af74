import { isUniqueViolation } from "../db/errors.ts";
import { createSessionStore, SessionNotFound } from "../session/omnichannel-session.ts";
import {
  checkPhone,
  checkSession,
  sessionNotFound,
  type ToolContext,
  type ToolError,
  toolError,
  type ToolResult,
} from "./context.ts";
import type { ToolInput } from "./schemas.ts";

/** The 4 session tools (the shared conversation state an agent reads and writes) and the handoff. */

export async function getOrCreate(ctx: ToolContext, input: ToolInput<"session_get_or_create">) {
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
      return toolError(
        "SESSION.CONFLICT",
        "The person already has another live session; use that one",
      );
    }
    throw err;
  }
}

export async function updateStatus(ctx: ToolContext, input: ToolInput<"session_update_status">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => {
    const row = await createSessionStore(ctx.sql).updateStatus(input.session_id, input.status);
    return { session_id: row.id, status: row.status };
  });
}

export async function addContext(ctx: ToolContext, input: ToolInput<"session_add_context">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => {
    const row = await createSessionStore(ctx.sql).mergeContext(input.session_id, {
      [input.key]: input.value,
    });
    return { session_id: row.id, context: row.context };
  });
}

export async function getContext(ctx: ToolContext, input: ToolInput<"session_get_context">) {
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  return sessionCall(input.session_id, async () => ({
    session_id: input.session_id,
    context: await createSessionStore(ctx.sql).getContext(input.session_id),
  }));
}

/**
 * `conversation_handoff`: the session goes to the tenant's human agents (only where the reply
 * path offers a handoff: a WhatsApp number routed `ai_then_agent`).
 */
export async function handOff(ctx: ToolContext, input: ToolInput<"conversation_handoff">) {
  if (!ctx.handoff) {
    return toolError(
      "HANDOFF.NOT_AVAILABLE",
      "No human agents answer this conversation: keep helping the person yourself",
    );
  }
  const refused = await checkSession(ctx, input.session_id);
  if (refused) return refused;
  const h = await ctx.handoff({
    sessionId: input.session_id,
    reason: input.reason,
    summary: input.summary,
  });
  return {
    session_id: input.session_id,
    handoff_id: h.handoffId,
    handed_off: true,
    already_with_agents: !h.isNew || undefined,
    next: "The person is told an agent will take over; do not answer further.",
  };
}
