import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { HttpError, methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { validated } from "../http/validated.ts";
import { type ArchivedRow, replayRequest, type ReplaySecrets } from "../archive/replay.ts";

export interface WebhookArchiveDeps {
  sql: Sql;
  logger: Logger;
  auth: AuthConfig;
  secrets: ReplaySecrets;
  /** Where the functions are served (`<SUPABASE_URL>/functions/v1`): replays are posted there. */
  functionsUrl?: string;
  fetch?: typeof fetch;
}

const List = z.object({
  source: z.string().max(64).optional(),
  direction: z.enum(["inbound", "outbound"]).optional(),
  correlation_id: z.string().max(256).optional(),
  /** ISO time: only bodies received at or after it. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** The page before this id (the previous page's `next_before_id`). */
  before_id: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
}).strict();

const notFound = () => new HttpError(404, "ARCHIVE.NOT_FOUND", "No archived webhook with that id");

/**
 * `webhook-archive` (secret key, or an operator's JWT): the raw webhook archive.
 * `GET /webhook-archive?source=&direction=&correlation_id=&since=&before_id=&limit=` lists
 * (newest first, without bodies), `GET /webhook-archive/{id}` reads one with its body, and
 * `POST /webhook-archive/{id}/replay` re-feeds an inbound body to the function that received
 * it, signed as its provider signs (archive/replay.ts), and records the answer on the row.
 */
export function createWebhookArchiveHandler(deps: WebhookArchiveDeps) {
  const fetchFn = deps.fetch ?? globalThis.fetch;
  return withErrors(deps.logger, async (req, correlationId) => {
    await authenticate(req, deps.auth);
    const url = new URL(req.url);
    const [, id, action] = url.pathname.replace(/^.*?\/webhook-archive/, "").split("/");
    if (!id) {
      if (req.method !== "GET") throw methodNotAllowed(["GET"]);
      return json(await list(deps.sql, validated(List, Object.fromEntries(url.searchParams))));
    }
    if (!/^\d{1,18}$/.test(id) || (action !== undefined && action !== "replay")) throw notFound();
    const [row] = await deps.sql<(ArchivedRow & Record<string, unknown>)[]>`
      select * from public.webhook_archive where id = ${id}`;
    if (!row) throw notFound();
    if (!action) {
      if (req.method !== "GET") throw methodNotAllowed(["GET"]);
      return json(row);
    }
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    if (row.direction !== "inbound") {
      throw new HttpError(409, "ARCHIVE.NOT_REPLAYABLE", "Only inbound webhooks are replayed");
    }
    if (!deps.functionsUrl) {
      throw new HttpError(503, "ARCHIVE.NO_FUNCTIONS_URL", "SUPABASE_URL is not set");
    }
    const request = await replayRequest(row, deps.secrets);
    if (!request.ok) throw new HttpError(409, "ARCHIVE.NOT_REPLAYABLE", request.reason);
    const res = await fetchFn(`${deps.functionsUrl.replace(/\/+$/, "")}${request.path}`, {
      method: "POST",
      headers: { ...request.headers, "x-correlation-id": `replay:${id}:${correlationId}` },
      body: row.body,
    });
    const answer = await res.text();
    await rpcValue(deps.sql, "record_webhook_replay", { p_id: Number(id), p_status: res.status });
    deps.logger.info("WEBHOOK_REPLAYED", {
      correlation_id: correlationId,
      archive_id: id,
      source: row.source,
      status: res.status,
    });
    return json({
      id: Number(id),
      source: row.source,
      status: res.status,
      answer: answer.slice(0, 4_000),
    });
  });
}

async function list(sql: Sql, q: z.infer<typeof List>) {
  const items = await sql`
    select id, direction, source, received_at, correlation_id, content_type,
           octet_length(body) as size, response_status, replay_count, last_replayed_at,
           last_replay_status
    from public.webhook_archive
    where (${q.source ?? null}::text is null or source = ${q.source ?? null})
      and (${q.direction ?? null}::text is null or direction = ${q.direction ?? null})
      and (${q.correlation_id ?? null}::text is null or correlation_id = ${
    q.correlation_id ?? null
  })
      and (${q.since ?? null}::timestamptz is null or received_at >= ${q.since ?? null})
      and (${q.before_id ?? null}::bigint is null or id < ${q.before_id ?? null})
    order by id desc
    limit ${q.limit}`;
  return {
    items,
    next_before_id: items.length === q.limit ? items.at(-1)!.id : null,
  };
}
