import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import { batchedPerPool } from "../db/tick-batch.ts";
import { pgSafeText } from "../text/pg-safe.ts";

/** The webhooks whose raw bodies are archived (and can be replayed: archive/replay.ts). */
export type ArchivedSource =
  | "wa-webhook"
  | "sms-inbound"
  | "meta-webhook"
  | "email-inbound"
  | "genesys-webhook";

export interface ArchivedWebhook {
  source: ArchivedSource;
  correlationId: string;
  contentType: string | null;
  /** What a replay needs besides the body (the path below the function, a Svix id); no secret. */
  headers?: Record<string, string>;
  body: Uint8Array;
}

const rowOf = (w: ArchivedWebhook) => ({
  direction: "inbound",
  source: w.source,
  correlation_id: w.correlationId,
  content_type: w.contentType,
  headers: w.headers ?? {},
  // Postgres text holds no U+0000: a body carrying one is kept without it (and so no longer
  // matches its signature for a replay; a real provider never sends one).
  body: pgSafeText(new TextDecoder().decode(w.body)),
});

const write = batchedPerPool<ArchivedWebhook, void>(
  async (sql, w) => {
    await rpcValue(sql, "archive_webhooks", { p_rows: [rowOf(w)] });
  },
  async (sql, ws) => {
    await rpcValue(sql, "archive_webhooks", { p_rows: ws.map(rowOf) });
    return ws.map(() => undefined);
  },
);

/**
 * Keeps a webhook's raw body (public.webhook_archive) once its signature holds: one multi-row
 * insert per event-loop turn shared by every concurrent request of the isolate, run alongside
 * the request's own write, so a webhook waits for no extra round trip of its own. Awaited, a
 * failure fails the request (non-2xx: the provider redelivers), like the event's own write.
 */
export function archiveWebhook(sql: Sql, w: ArchivedWebhook): Promise<void> {
  const written = write(sql, w);
  // A request that fails before awaiting it (a 400 on its body) must not crash the isolate.
  written.catch(() => {});
  return written;
}

/** The request's headers a replay of `source` needs. */
export function replayHeaders(req: Request, source: ArchivedSource): Record<string, string> {
  const url = new URL(req.url);
  const path = url.pathname.replace(new RegExp(`^.*?/${source}`), "");
  const out: Record<string, string> = {};
  if (path && path !== "/") out.path = path.slice(0, 64);
  const svixId = req.headers.get("svix-id");
  if (svixId) out["svix-id"] = svixId.slice(0, 128);
  return out;
}
