import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { channelsOf, createPlatform, serviceAuthOf } from "../_shared/platform/deps.ts";
import { createMessagingToolsHandler } from "../_shared/handlers/messaging-tools.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "messaging-tools");
const { env } = platform;

const handler = createMessagingToolsHandler({
  ...platform,
  ...channelsOf(platform),
  auth: serviceAuthOf(env),
  whatsappTemplate: env.WHATSAPP_SUMMARY_TEMPLATE
    ? { name: env.WHATSAPP_SUMMARY_TEMPLATE, language: env.WHATSAPP_TEMPLATE_LANGUAGE }
    : undefined,
});

serveFunction(handler);
