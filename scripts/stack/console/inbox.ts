import { z } from "zod";
import { HttpError } from "../../../supabase/functions/_shared/http/errors.ts";
import { readRawBody } from "../../../supabase/functions/_shared/http/body.ts";
import { json } from "../../../supabase/functions/_shared/http/respond.ts";
import { maskPhone } from "../../../supabase/functions/_shared/log/mask.ts";

/** What the inbox needs to reach the `messages` function as the stack's own caller. */
export interface InboxInfo {
  consoleUrl: string;
  functionsUrl: string;
  /** The stack's secret key: the console is the local operator's tool, bound to 127.0.0.1. */
  secretKey: string;
}

const View = z.enum(["all", "unassigned", "assigned", "breaching"]);
const ACTION =
  /^\/api\/inbox\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(assign|resolve|reopen|reply)$/i;

/**
 * The inbox and message stats of the console, served by the `messages` function itself (so the
 * console shows exactly what the API answers): `GET /api/inbox?view=` (conversations, phone
 * numbers masked unless `reveal=1`), `GET /api/message-stats` (the last 7 days), and
 * `POST /api/inbox/{id}/assign|resolve|reopen|reply`, accepted only from the console's own page
 * (Origin), so another site cannot make the browser act for the operator.
 */
export async function inboxRoute(
  info: InboxInfo,
  req: Request,
  url: URL,
): Promise<Response | null> {
  if (url.pathname === "/api/inbox" && req.method === "GET") {
    const view = View.safeParse(url.searchParams.get("view") ?? "all");
    if (!view.success) {
      throw new HttpError(
        400,
        "VALIDATION.INVALID_QUERY",
        "view: unassigned, assigned, breaching or all",
        {
          field: "view",
        },
      );
    }
    const reveal = url.searchParams.get("reveal") === "1";
    const body = await call(info, "GET", `/messages/conversations?view=${view.data}&limit=100`);
    for (const c of (body as { conversations: { phone_number: string | null }[] }).conversations) {
      if (c.phone_number && !reveal) c.phone_number = maskPhone(c.phone_number);
    }
    return json(body, 200, { "cache-control": "no-store" });
  }
  if (url.pathname === "/api/message-stats" && req.method === "GET") {
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const query = `from=${from.toISOString()}&to=${to.toISOString()}`;
    return json(await call(info, "GET", `/messages/stats?${query}`), 200, {
      "cache-control": "no-store",
    });
  }
  const action = url.pathname.match(ACTION);
  if (!action) return null;
  if (req.method !== "POST") return null;
  if (req.headers.get("origin") !== new URL(info.consoleUrl).origin) {
    throw new HttpError(
      403,
      "AUTH.FORBIDDEN",
      "Only the console's own page may act on conversations",
    );
  }
  const raw = await readRawBody(req);
  const body = raw.byteLength ? new TextDecoder().decode(raw) : "{}";
  return json(await call(info, "POST", `/messages/conversations/${action[1]}/${action[2]}`, body));
}

/** A call to one of the stack's functions with its secret key; its error answered as ours. */
export async function call(info: InboxInfo, method: string, path: string, body?: string) {
  const res = await fetch(`${info.functionsUrl}${path}`, {
    method,
    headers: { apikey: info.secretKey, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (answer as { error?: { code?: string; message?: string } } | null)?.error;
    throw new HttpError(
      res.status === 404 ? 404 : res.status >= 500 ? 502 : res.status,
      error?.code ?? "CONSOLE.UPSTREAM",
      error?.message ?? `${path.split(/[/?]/)[1]} answered ${res.status}`,
    );
  }
  return answer;
}
