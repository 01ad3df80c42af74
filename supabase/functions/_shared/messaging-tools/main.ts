import { authOf } from "../http/function-auth.ts";
import { channelsOf, createPlatform } from "../platform/deps.ts";
import type { Runtime } from "../platform/runtime.ts";
import { createMessagingToolsHandler } from "./handler.ts";

/** `messaging-tools` built from the validated environment. */
export function messagingTools({ env }: Runtime) {
  const platform = createPlatform(env, "messaging-tools");
  return createMessagingToolsHandler({
    ...platform,
    ...channelsOf(platform),
    auth: authOf("messaging-tools", env),
    whatsappTemplate: env.WHATSAPP_SUMMARY_TEMPLATE
      ? { name: env.WHATSAPP_SUMMARY_TEMPLATE, language: env.WHATSAPP_TEMPLATE_LANGUAGE }
      : undefined,
  });
}
