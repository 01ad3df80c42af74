import type { Runtime } from "../platform/runtime.ts";
import { createPlatform } from "../platform/deps.ts";
import { createEmailUnsubscribeHandler } from "./handler.ts";

/** `email-unsubscribe` built from the validated environment (functions/email-unsubscribe/index.ts serves it). */
export function emailUnsubscribe({ env }: Runtime) {
  const platform = createPlatform(env, "email-unsubscribe");
  return createEmailUnsubscribeHandler({
    sql: platform.sql,
    logger: platform.logger,
    secret: env.EMAIL_UNSUBSCRIBE_SECRET,
  });
}
