import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { channelsOf, createPlatform } from "../_shared/platform/deps.ts";
import { createMessagingToolsHandler } from "../_shared/messaging-tools/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "messaging-tools");
const { env } = platform;

const handler = createMessagingToolsHandler({
  ...platform,
  ...channelsOf(platform),
  auth: authOf("messaging-tools", env),
  whatsappTemplate: env.WHATSAPP_SUMMARY_TEMPLATE
    ? { name: env.WHATSAPP_SUMMARY_TEMPLATE, language: env.WHATSAPP_TEMPLATE_LANGUAGE }
    : undefined,
});

serveFunction(handler);
