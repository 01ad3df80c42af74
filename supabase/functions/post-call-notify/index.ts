import { loadConfig } from "../_shared/config.ts";
import { channelsOf, createPlatform, serviceAuthOf } from "../_shared/platform/deps.ts";
import { createPostCallNotifyHandler } from "../_shared/handlers/post-call-notify.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "post-call-notify");
const { env } = platform;

const handler = createPostCallNotifyHandler({
  ...platform,
  ...channelsOf(platform),
  auth: serviceAuthOf(env),
  defaultCountry: env.DEFAULT_COUNTRY,
  config: {
    summaryTemplate: env.WHATSAPP_SUMMARY_TEMPLATE,
    templateLanguage: env.WHATSAPP_TEMPLATE_LANGUAGE,
    summaryWaitMs: env.POST_CALL_SUMMARY_WAIT_MS,
    summaryPollMs: env.POST_CALL_SUMMARY_POLL_MS,
    sendTimeoutMs: env.PROVIDER_TIMEOUT_MS + 2_000,
  },
});

Deno.serve({ port: Number(Deno.env.get("EDGE_FUNCTION_PORT") ?? "8000") }, handler);
