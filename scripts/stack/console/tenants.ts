import { HttpError } from "../../../supabase/functions/_shared/http/errors.ts";
import { readRawBody } from "../../../supabase/functions/_shared/http/body.ts";
import { json } from "../../../supabase/functions/_shared/http/respond.ts";
import { maskPhone } from "../../../supabase/functions/_shared/log/mask.ts";
import type { InboxInfo } from "./inbox.ts";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const READ = new RegExp(`^/api/tenants(?:/(${UUID})(/dashboard)?)?$`, "i");

/**
 * The portal of the console, served by the `tenants` admin function (the API a hosted portal
 * would call): `GET /api/tenants`, `GET /api/tenants/{id}` (its accounts: credential fields
 * shown as "set", never their values), `GET /api/tenants/{id}/dashboard` (phone numbers masked
 * unless `reveal=1`), and, from the console's own page only (Origin), `POST /api/tenants/check`
 * (one account's credentials checked live) and `POST /api/tenants` (a tenant and its accounts).
 * The function's errors pass through with their status, code and field.
 */
export async function tenantsRoute(
  info: InboxInfo,
  req: Request,
  url: URL,
): Promise<Response | null> {
  const read = url.pathname.match(READ);
  if (read && req.method === "GET") {
    const [, id, dashboard] = read;
    const body = await call(info, "GET", `/tenants${id ? `/${id}` : ""}${dashboard ?? ""}`);
    if (dashboard && url.searchParams.get("reveal") !== "1") {
      for (
        const c of (body as { recent_conversations: { phone_number: string | null }[] })
          .recent_conversations
      ) {
        if (c.phone_number) c.phone_number = maskPhone(c.phone_number);
      }
    }
    return json(body, 200, { "cache-control": "no-store" });
  }
  const write = url.pathname === "/api/tenants" || url.pathname === "/api/tenants/check";
  if (!write || req.method !== "POST") return null;
  if (req.headers.get("origin") !== new URL(info.consoleUrl).origin) {
    throw new HttpError(403, "AUTH.FORBIDDEN", "Only the console's own page may save tenants");
  }
  const raw = await readRawBody(req);
  const path = url.pathname.replace(/^\/api/, "");
  return json(await call(info, "POST", path, new TextDecoder().decode(raw)), 200);
}

/** One call to the function with the stack's secret key; its errors keep status and field. */
async function call(info: InboxInfo, method: string, path: string, body?: string) {
  const res = await fetch(`${info.functionsUrl}${path}`, {
    method,
    headers: { apikey: info.secretKey, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (answer as { error?: Record<string, unknown> } | null)?.error ?? {};
    const { code, message, ...details } = error;
    throw new HttpError(
      res.status >= 500 && res.status !== 502 ? 502 : res.status,
      typeof code === "string" ? code : "CONSOLE.UPSTREAM",
      typeof message === "string" ? message : `The tenants function answered ${res.status}`,
      details,
    );
  }
  return answer;
}
