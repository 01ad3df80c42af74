import type { Sql } from "../db/client.ts";
import type { Template } from "./route.ts";

/** The stored templates of one name and locale, one per channel (public.message_templates). */
export function templatesOf(sql: Sql) {
  return async (name: string, locale: string): Promise<Template[]> => {
    const exists = await sql<{ ok: boolean }[]>`
      select pg_catalog.to_regclass('public.message_templates') is not null as ok`;
    if (!exists[0]?.ok) return [];
    return await sql<Template[]>`
      select channel, name, locale, status, body_text as "bodyText", subject,
             param_count as "paramCount"
      from public.message_templates where name = ${name} and locale = ${locale}`;
  };
}
