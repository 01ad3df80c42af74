import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { accountsOf } from "../platform/deps.ts";
import { createWebhookArchiveHandler } from "./handler.ts";

/** `webhook-archive` built from the validated environment. */
export function webhookArchive({ env }: Runtime) {
  const { platform, auth } = sendingFunction(env, "webhook-archive");
  return createWebhookArchiveHandler({
    sql: platform.sql,
    logger: platform.logger,
    auth,
    fetch: platform.fetch,
    functionsUrl: env.SUPABASE_URL
      ? `${env.SUPABASE_URL.replace(/\/+$/, "")}/functions/v1`
      : undefined,
    secrets: {
      accounts: accountsOf(platform),
      metaAppSecret: env.META_APP_SECRET,
      mtnSecret: env.MTN_WEBHOOK_SECRET,
      twilioAuthToken: env.TWILIO_AUTH_TOKEN,
      publicFunctionsUrl: env.PUBLIC_FUNCTIONS_URL,
      resendWebhookSecret: env.RESEND_WEBHOOK_SECRET,
    },
  });
}
