import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { HttpError, methodNotAllowed } from "../../supabase/functions/_shared/http/errors.ts";
import { json, withErrors } from "../../supabase/functions/_shared/http/respond.ts";
import { createLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { readFunctionsHealth } from "./console/health.ts";
import { type InboxInfo, inboxRoute } from "./console/inbox.ts";
import { webhooksRoute } from "./console/webhooks.ts";
import { type ConsolePage, loadPage } from "./console/page.ts";
import { tenantsRoute } from "./console/tenants.ts";
import {
  DeliveriesQuery,
  MessagesQuery,
  NoQuery,
  parseQuery,
  parseSegment,
  SessionId,
  SessionsQuery,
} from "./console/params.ts";
import { listDeliveries, listSessions, readStats, sessionConversation } from "./console/queries.ts";

export interface ConsoleInfo extends InboxInfo {
  /** Where the console itself listens (`http://127.0.0.1:<port>`): named in the 403 for a foreign Host. */
  consoleUrl: string;
  functionsUrl: string;
  sandboxUrl: string;
  /** Shown on the page: redacted, never the password. */
  dbUrl: string;
  functions: string[];
  /** Its own small pool; the console only reads, in read-only transactions. */
  sql: Sql;
  /** Where unexpected errors are logged (one JSON line each). */
  log?: (line: string) => void;
}

const notFound = () => new HttpError(404, "HTTP.NOT_FOUND", "No such page");

/** Only a name that means this machine: a DNS-rebinding page must not read the console. */
const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

function api(body: unknown): Response {
  return json(body, 200, { "cache-control": "no-store", "x-content-type-options": "nosniff" });
}

/**
 * The console on :54323: `GET /` is the page (sessions, conversations across channels, the
 * delivery log, the outbox and pacing), which polls the JSON API beside it every 2 s:
 * /api/sessions, /api/sessions/:id/messages, /api/deliveries, /api/stats, /api/health,
 * /api/info, the inbox's /api/inbox, /api/message-stats and its actions (console/inbox.ts), and
 * the portal's /api/tenants (console/tenants.ts), and
 * the webhook archive's /api/webhooks, /api/webhooks/:id and its replay (console/webhooks.ts).
 * Bad query parameters are 400 `{error:{code, message, field}}`.
 */
export function createConsoleHandler(info: ConsoleInfo): (req: Request) => Promise<Response> {
  const logger = createLogger({ sink: info.log ?? (() => {}), base: { component: "console" } });
  let page: Promise<ConsolePage> | undefined;

  return withErrors(logger, async (req) => {
    const url = new URL(req.url);
    if (!LOCAL_HOST.test(req.headers.get("host") ?? "")) {
      throw new HttpError(
        403,
        "AUTH.FORBIDDEN",
        // The request's own URL carries the foreign Host's port, not ours.
        `Open the console at ${info.consoleUrl}/`,
      );
    }
    const inbox = await inboxRoute(info, req, url) ?? await webhooksRoute(info, req, url);
    if (inbox) return inbox;
    const tenants = await tenantsRoute(info, req, url);
    if (tenants) return tenants;
    if (req.method !== "GET") throw methodNotAllowed(["GET"]);
    const path = url.pathname;

    if (path === "/") {
      parseQuery(NoQuery, url);
      const { html, csp } = await (page ??= loadPage());
      return new Response(html, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": csp,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        },
      });
    }
    if (path === "/api/sessions") {
      return api({ sessions: await listSessions(info.sql, parseQuery(SessionsQuery, url)) });
    }
    const conversation = path.match(/^\/api\/sessions\/([^/]+)\/messages$/);
    if (conversation) {
      const id = parseSegment(SessionId, conversation[1], "session id");
      const found = await sessionConversation(info.sql, id, parseQuery(MessagesQuery, url));
      if (!found) throw new HttpError(404, "SESSION.NOT_FOUND", "No session with this id");
      return api(found);
    }
    if (path === "/api/deliveries") {
      return api({ deliveries: await listDeliveries(info.sql, parseQuery(DeliveriesQuery, url)) });
    }
    if (path === "/api/stats") {
      parseQuery(NoQuery, url);
      return api(await readStats(info.sql));
    }
    if (path === "/api/health") {
      parseQuery(NoQuery, url);
      return api(await readFunctionsHealth(info.functionsUrl));
    }
    if (path === "/api/info") {
      parseQuery(NoQuery, url);
      return api({
        functions_url: info.functionsUrl,
        health_url: `${info.functionsUrl}/health`,
        sandbox_url: info.sandboxUrl,
        sandbox_messages_url: `${info.sandboxUrl}/__sandbox/messages`,
        db: info.dbUrl,
        functions: info.functions,
      });
    }
    throw notFound();
  });
}
