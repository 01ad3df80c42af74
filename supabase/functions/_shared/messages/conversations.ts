import { z } from "zod";
import { rpc, rpcValue } from "../db/rpc.ts";
import { isInvalidTransition, isNoDataFound, isNotYours } from "../db/errors.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { HttpError, methodNotAllowed } from "../http/errors.ts";
import { json } from "../http/respond.ts";
import { validated, validatedQuery } from "../http/validated.ts";
import { sendMessage } from "../outbound/send-message.ts";
import type { OutboundDeps } from "../outbound/send.ts";
import { decodeCursor, encodeCursor, UUID } from "./cursor.ts";

const ListQuery = z.object({
  view: z.enum(["all", "unassigned", "assigned", "breaching"]).default("all"),
  assignee: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
}).strict();

const AssignBody = z.object({
  /** Defaults to the signed-in agent. */
  assignee: z.string().trim().min(1).max(200).optional(),
  priority: z.enum(["low", "normal", "high", "urgent"]).optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).optional(),
}).strict();

const ReplyBody = z.object({
  text: z.string().trim().min(1).max(4096),
  /** Defaults to the conversation's last channel (WhatsApp when it has none). */
  channel: z.enum(["whatsapp", "sms"]).optional(),
  idempotency_key: z.string().trim().min(1).max(200).optional(),
}).strict();

interface Conversation {
  id: string;
  assignee: string | null;
  phone_number: string | null;
  last_channel: string | null;
}

/** Who is asking: `agent` is set for a user with the agent role, who sees only their own. */
interface Ctx {
  userId?: string;
  agent?: string;
  correlationId: string;
}

/**
 * `/messages/conversations…`: the agents' inbox. `GET` lists a view a page at a time, `GET /{id}`
 * shows one with its SLA breaches, `POST /{id}/assign|resolve|reopen` moves it, `POST /{id}/reply`
 * sends an agent's reply through the outbound path (purpose `agent_reply`, which the SLA counts).
 * An agent sees and acts only on conversations that are unassigned or assigned to them (403
 * CONVERSATION.NOT_YOURS otherwise); operators and secret keys, on every one.
 */
export async function conversationsRoute(
  deps: OutboundDeps,
  req: Request,
  path: string[],
  ctx: Ctx,
): Promise<Response> {
  if (path.length === 0) {
    if (req.method !== "GET") throw methodNotAllowed(["GET"]);
    return await list(deps, new URL(req.url), ctx);
  }
  const [id, action] = path;
  if (!UUID.test(id) || path.length > 2) throw notFound();
  if (!action) {
    if (req.method !== "GET") throw methodNotAllowed(["GET"]);
    return json(await conversation(deps, id, ctx));
  }
  if (req.method !== "POST") throw methodNotAllowed(["POST"]);
  const raw = await readRawBody(req);
  const body = raw.byteLength ? parseJson(raw) : {};
  if (action === "reply") return await reply(deps, id, validated(ReplyBody, body), ctx);
  if (action !== "assign" && action !== "resolve" && action !== "reopen") throw notFound();
  const assign = action === "assign" ? validated(AssignBody, body) : undefined;
  const assignee = assign?.assignee ?? ctx.userId;
  if (action === "assign" && !assignee) {
    throw new HttpError(400, "VALIDATION.INVALID_BODY", "assignee: required with a secret key", {
      field: "assignee",
    });
  }
  try {
    return json(
      await rpcValue(deps.sql, "move_conversation", {
        p_session_id: id,
        p_action: action,
        p_assignee: assignee,
        p_priority: assign?.priority,
        p_tags: assign?.tags,
        p_agent: ctx.agent,
      }),
    );
  } catch (err) {
    if (isNoDataFound(err)) throw notFound();
    if (isNotYours(err)) {
      throw notYours(action === "assign" && assignee !== ctx.agent);
    }
    if (isInvalidTransition(err)) {
      throw new HttpError(
        409,
        "CONVERSATION.INVALID_TRANSITION",
        `This conversation cannot be ${action === "assign" ? "assigned" : `${action}d`} now`,
      );
    }
    throw err;
  }
}

async function list(deps: OutboundDeps, url: URL, ctx: Ctx) {
  const q = validatedQuery(ListQuery, url);
  const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
  const rows = await rpc(deps.sql, "list_conversations", {
    p_view: q.view,
    p_assignee: q.assignee,
    p_limit: q.limit + 1,
    p_before_activity: cursor?.createdAt,
    p_before_id: cursor?.id,
    p_agent: ctx.agent,
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return json({
    conversations: page.map((r) => r.conversation),
    next_cursor: rows.length > q.limit && last
      ? encodeCursor(last.cursor_activity, last.cursor_id)
      : null,
  });
}

async function conversation(deps: OutboundDeps, id: string, ctx: Ctx) {
  const found = await rpcValue(deps.sql, "get_conversation", { p_session_id: id });
  if (!found) throw notFound();
  const c = found as unknown as Conversation & Record<string, unknown>;
  if (ctx.agent && c.assignee !== null && c.assignee !== ctx.agent) throw notYours(false);
  return c;
}

async function reply(
  deps: OutboundDeps,
  id: string,
  body: z.infer<typeof ReplyBody>,
  ctx: Ctx,
) {
  const c = await conversation(deps, id, ctx);
  if (!c.phone_number) {
    throw new HttpError(422, "RECIPIENT.NO_ADDRESS", "The person has no phone number to reply to");
  }
  const channel = body.channel ??
    (c.last_channel === "sms" || c.last_channel === "whatsapp" ? c.last_channel : "whatsapp");
  const sent = await sendMessage(deps, {
    channel,
    to: c.phone_number,
    body: body.text,
    sessionId: id,
    purpose: "agent_reply",
    correlationId: ctx.correlationId,
    idempotencyKey: body.idempotency_key ? `agent_reply:${id}:${body.idempotency_key}` : undefined,
  });
  return json(sent, sent.status === "failed" || sent.status === "blocked" ? 422 : 202);
}

const notYours = (assigningOther: boolean) =>
  new HttpError(
    403,
    "CONVERSATION.NOT_YOURS",
    assigningOther
      ? "An agent can assign a conversation only to themself"
      : "This conversation is assigned to another agent",
  );

const notFound = () => new HttpError(404, "CONVERSATION.NOT_FOUND", "No such conversation");
