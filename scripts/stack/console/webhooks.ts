import { z } from "zod";
import { HttpError } from "../../../supabase/functions/_shared/http/errors.ts";
import { json } from "../../../supabase/functions/_shared/http/respond.ts";
import { call, type InboxInfo } from "./inbox.ts";

const Filters = z.object({
  source: z.string().regex(/^[a-z:-]{1,64}$/).optional(),
  direction: z.enum(["inbound", "outbound"]).optional(),
  before_id: z.string().regex(/^\d{1,18}$/).optional(),
}).strict();

const ONE = /^\/api\/webhooks\/(\d{1,18})(\/replay)?$/;

/**
 * The raw webhook archive in the console, served by the `webhook-archive` function (so it shows
 * what the API answers): `GET /api/webhooks?source=&direction=&before_id=` (newest first),
 * `GET /api/webhooks/{id}` (with its body) and `POST /api/webhooks/{id}/replay`, accepted only
 * from the console's own page (Origin).
 */
export async function webhooksRoute(
  info: InboxInfo,
  req: Request,
  url: URL,
): Promise<Response | null> {
  if (url.pathname === "/api/webhooks" && req.method === "GET") {
    const q = Filters.safeParse(Object.fromEntries(url.searchParams));
    if (!q.success) {
      throw new HttpError(400, "VALIDATION.INVALID_QUERY", "source, direction or before_id", {
        field: q.error.issues[0]?.path.join("."),
      });
    }
    const query = new URLSearchParams({ limit: "100", ...q.data });
    return json(await call(info, "GET", `/webhook-archive?${query}`), 200, {
      "cache-control": "no-store",
    });
  }
  const one = url.pathname.match(ONE);
  if (!one) return null;
  if (!one[2]) {
    if (req.method !== "GET") return null;
    return json(await call(info, "GET", `/webhook-archive/${one[1]}`), 200, {
      "cache-control": "no-store",
    });
  }
  if (req.method !== "POST") return null;
  if (req.headers.get("origin") !== new URL(info.consoleUrl).origin) {
    throw new HttpError(403, "AUTH.FORBIDDEN", "Only the console's own page may replay webhooks");
  }
  return json(await call(info, "POST", `/webhook-archive/${one[1]}/replay`));
}
