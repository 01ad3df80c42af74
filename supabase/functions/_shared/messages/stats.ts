import { z } from "zod";
import { rpc } from "../db/rpc.ts";
import type { Sql } from "../db/client.ts";
import { badRequest, methodNotAllowed } from "../http/errors.ts";
import { json } from "../http/respond.ts";
import { validatedQuery } from "../http/validated.ts";
import { CHANNELS } from "./route.ts";

const StatsQuery = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  channel: z.enum(CHANNELS).optional(),
}).strict();

/** The longest range one request may ask for. */
const MAX_RANGE_DAYS = 366;

/**
 * `GET /messages/stats?from=&to=&channel=`: per channel, sent, delivered, read, failed and
 * blocked; delivery and read rates; median and p90 time to delivered; median first-response
 * time (public.message_stats). The console's stats view reads the same endpoint.
 */
export async function statsRoute(sql: Sql, req: Request): Promise<Response> {
  if (req.method !== "GET") throw methodNotAllowed(["GET"]);
  const q = validatedQuery(StatsQuery, req.url);
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (!(from < to) || to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    throw badRequest(
      "VALIDATION.INVALID_QUERY",
      `to must be after from, at most ${MAX_RANGE_DAYS} days later`,
      { field: "to" },
    );
  }
  const rows = await rpc(sql, "message_stats", {
    p_from: from.toISOString(),
    p_to: to.toISOString(),
    p_channel: q.channel,
  });
  return json({ from: from.toISOString(), to: to.toISOString(), channels: rows });
}
