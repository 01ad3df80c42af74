import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { postCallConfigOf } from "../platform/deps.ts";
import { createMessagesHandler } from "./handler.ts";
import { templatesOf } from "./templates.ts";
import { mediaStoreOf } from "../media/storage.ts";
import { listWhatsAppTemplates } from "../channels/whatsapp-templates.ts";

/** `messages` built from the validated environment (functions/messages/index.ts serves it). */
export function messages({ env, waitUntil }: Runtime) {
  const { platform, outbound, auth } = sendingFunction(env, "messages");
  return createMessagesHandler({
    ...outbound,
    auth,
    templates: templatesOf(platform.sql),
    defaultCountry: env.DEFAULT_COUNTRY,
    ratePerMinute: env.MESSAGES_API_RATE_PER_MINUTE,
    readsPerMinute: env.MESSAGES_API_READS_PER_MINUTE,
    waitUntil,
    media: {
      store: mediaStoreOf(env, platform.fetch),
      fetch: platform.fetch,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
    },
    postCall: postCallConfigOf(env),
    listWhatsAppTemplates: () =>
      listWhatsAppTemplates({
        baseUrl: env.WHATSAPP_API_BASE_URL,
        accessToken: env.WHATSAPP_ACCESS_TOKEN,
        businessAccountId: env.WHATSAPP_BUSINESS_ACCOUNT_ID,
      }, { fetch: platform.fetch, timeoutMs: env.PROVIDER_TIMEOUT_MS }),
  });
}
