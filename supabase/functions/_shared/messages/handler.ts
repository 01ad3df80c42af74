import { rpc, rpcValue } from "../db/rpc.ts";
import { type AuthConfig, authenticate, type Caller } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { HttpError, methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { validated, validatedQuery } from "../http/validated.ts";
import { conversationsRoute } from "./conversations.ts";
import { statsRoute } from "./stats.ts";
import { type TemplatesDeps, templatesRoute } from "./sync-templates.ts";
import { acceptMessage } from "./send-api-message.ts";
import { type NotificationsDeps, notificationsRoute } from "./notifications.ts";
import { ListQuery, SendBody } from "./schemas.ts";
import { decodeCursor, encodeCursor, UUID } from "./cursor.ts";

export interface MessagesHandlerDeps extends NotificationsDeps, TemplatesDeps {
  auth: AuthConfig;
  /** Sends per minute per caller (MESSAGES_API_RATE_PER_MINUTE). */
  ratePerMinute: number;
  /** Every other request per minute per caller (MESSAGES_API_READS_PER_MINUTE). */
  readsPerMinute: number;
}

/**
 * The `messages` function: the messaging API for other systems (docs/api.md). Every request is
 * authenticated (secret key, or a user JWT with an allowed role) and counted against its
 * caller's quota in Postgres — sends and everything else apart, see isSend — (429 with
 * Retry-After past it), then routed by its path below
 * `/messages`.
 */
export function createMessagesHandler(deps: MessagesHandlerDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    const who = await authenticate(req, deps.auth);
    const caller = callerKey(who);
    const path = subPath(new URL(req.url).pathname);
    const sends = isSend(req.method, path);
    const limit = sends ? deps.ratePerMinute : deps.readsPerMinute;
    const [quota] = await rpc(deps.sql, "take_api_quota", {
      p_caller: sends ? caller : `${caller}#reads`,
      p_limit: limit,
      p_window_seconds: 60,
    });
    if (!quota.allowed) {
      return json(
        {
          error: {
            code: "API.RATE_LIMITED",
            message: `More than ${limit} ${
              sends ? "sends" : "other requests"
            } in a minute; retry later`,
          },
        },
        429,
        { "retry-after": String(quota.retry_after_seconds) },
      );
    }
    const ctx = { deps, req, caller, correlationId };
    if (path.length === 0) return await messagesRoot(ctx);
    if (path.length === 1 && path[0] === "stats") return await statsRoute(deps.sql, req);
    if (path[0] === "notifications") {
      return await notificationsRoute(deps, req, path.slice(1), { caller, correlationId });
    }
    if (path[0] === "templates") return await templatesRoute(deps, req, path.slice(1));
    if (path[0] === "conversations") {
      return await conversationsRoute(deps, req, path.slice(1), {
        userId: who.mode === "user" ? who.userId : undefined,
        agent: who.mode === "user" && who.role === "agent" ? who.userId : undefined,
        correlationId,
      });
    }
    if (path.length === 1 && UUID.test(path[0])) {
      if (req.method !== "GET") throw methodNotAllowed(["GET"]);
      return await oneMessage(deps, path[0]);
    }
    throw new HttpError(404, "HTTP.NOT_FOUND", "No such route");
  });
}

interface Ctx {
  deps: MessagesHandlerDeps;
  req: Request;
  caller: string;
  correlationId: string;
}

async function messagesRoot({ deps, req, caller, correlationId }: Ctx) {
  if (req.method === "POST") {
    const body = validated(SendBody, parseJson(await readRawBody(req)));
    const accepted = await acceptMessage(deps, { caller, body, correlationId });
    return json(accepted.body, 202);
  }
  if (req.method === "GET") return await listMessages(deps, new URL(req.url));
  throw methodNotAllowed(["GET", "POST"]);
}

async function oneMessage(deps: MessagesHandlerDeps, id: string) {
  const message = await rpcValue(deps.sql, "get_api_message", { p_message_id: id });
  if (!message) throw new HttpError(404, "MESSAGE.NOT_FOUND", "No such message");
  return json(message);
}

async function listMessages(deps: MessagesHandlerDeps, url: URL) {
  const q = validatedQuery(ListQuery, url);
  const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
  const rows = await rpc(deps.sql, "list_api_messages", {
    p_limit: q.limit + 1,
    p_profile_id: q.profile_id,
    p_channel: q.channel,
    p_status: q.status,
    p_before_created_at: cursor?.createdAt,
    p_before_id: cursor?.id,
  });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return json({
    messages: page.map(({ cursor_created_at: _, ...m }) => m),
    next_cursor: rows.length > q.limit && last
      ? encodeCursor(last.cursor_created_at, last.id)
      : null,
  });
}

/** The path below the function's name: `/messages/<id>` → `[<id>]`. */
export function subPath(pathname: string): string[] {
  const parts = pathname.split("/").filter(Boolean);
  const at = parts.indexOf("messages");
  return at === -1 ? parts : parts.slice(at + 1);
}

/**
 * Whether a request sends a message — `POST /messages`, `POST /notifications/{event}`,
 * `POST /conversations/{id}/reply` — and so counts against the send quota; every other request
 * (reads, conversation moves, template sync) counts against the separate, higher one.
 */
export function isSend(method: string, path: string[]): boolean {
  if (method !== "POST") return false;
  return path.length === 0 || path[0] === "notifications" ||
    (path[0] === "conversations" && path[2] === "reply");
}

/** Quota and idempotency belong to the caller: its key's name, or its user. */
function callerKey(caller: Caller): string {
  if (caller.mode === "user") return `user:${caller.userId}`;
  if (caller.mode === "legacy-service-role") return "service_role";
  return `${caller.mode}:${caller.keyName}`;
}
