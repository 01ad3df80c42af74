import type { Sql } from "../db/client.ts";
import type { Template } from "./route.ts";

/** The stored templates of one name and locale, one per channel (public.message_templates). */
export function templatesOf(sql: Sql) {
  return async (name: string, locale: string): Promise<Template[]> =>
    await sql<Template[]>`
      select channel, name, locale, status, body_text as "bodyText", subject,
             param_count as "paramCount"
      from public.message_templates where name = ${name} and locale = ${locale}`;
}
