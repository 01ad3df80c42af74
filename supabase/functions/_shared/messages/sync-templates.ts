import { z } from "zod";
import { rpc } from "../db/rpc.ts";
import type { Json } from "../db/database.types.ts";
import type { Sql } from "../db/client.ts";
import { HttpError, methodNotAllowed } from "../http/errors.ts";
import { json } from "../http/respond.ts";
import { validatedQuery } from "../http/validated.ts";
import type { Logger } from "../log/logger.ts";
import type { listWhatsAppTemplates } from "../channels/whatsapp-templates.ts";
import { CHANNELS } from "./route.ts";

export interface TemplatesDeps {
  sql: Sql;
  logger: Logger;
  /** Meta's list of the business account's templates (channels/whatsapp-templates.ts). */
  listWhatsAppTemplates: () => ReturnType<typeof listWhatsAppTemplates>;
}

const ListQuery = z.object({
  channel: z.enum(CHANNELS).optional(),
  name: z.string().trim().min(1).max(512).optional(),
}).strict();

/**
 * `/messages/templates`: `GET` lists the stored templates (per channel and locale, with their
 * status); `POST /sync` fetches WhatsApp's from Meta and stores them (the 6-hourly job calls it).
 */
export async function templatesRoute(
  deps: TemplatesDeps,
  req: Request,
  path: string[],
): Promise<Response> {
  if (path.length === 0) {
    if (req.method !== "GET") throw methodNotAllowed(["GET"]);
    const q = validatedQuery(ListQuery, req.url);
    const rows = await deps.sql`
      select channel, name, locale, status, category, subject, body_text, param_count, synced_at
      from public.message_templates
      where (${q.channel ?? null}::text is null or channel = ${q.channel ?? null})
        and (${q.name ?? null}::text is null or name = ${q.name ?? null})
      order by channel, name, locale limit 500`;
    return json({ templates: rows });
  }
  if (path.length === 1 && path[0] === "sync") {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    return json(await syncWhatsAppTemplates(deps));
  }
  throw new HttpError(404, "HTTP.NOT_FOUND", "No such route");
}

/** Fetches Meta's templates and makes them the stored truth (public.sync_whatsapp_templates). */
export async function syncWhatsAppTemplates(deps: TemplatesDeps) {
  const listed = await deps.listWhatsAppTemplates();
  if (!listed.ok) {
    deps.logger.warn("WHATSAPP_TEMPLATE_SYNC_FAILED", {
      error_code: listed.error.code,
      error_class: listed.error.class,
    });
    throw new HttpError(
      502,
      "TEMPLATES.SYNC_FAILED",
      `Meta did not list the templates: ${listed.error.message}`,
      { provider_code: listed.error.code },
    );
  }
  const [result] = await rpc(deps.sql, "sync_whatsapp_templates", {
    p_templates: listed.templates.map((t) => ({
      id: t.id,
      name: t.name,
      language: t.language,
      status: t.status,
      category: t.category,
      components: t.components,
      body_text: t.bodyText,
      param_count: t.paramCount,
    })) as unknown as Json,
  });
  deps.logger.info("WHATSAPP_TEMPLATES_SYNCED", { ...result });
  return { synced: result.synced, removed: result.removed };
}
