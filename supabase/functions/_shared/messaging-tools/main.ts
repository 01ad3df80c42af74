import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createMessagingToolsHandler } from "./handler.ts";

/** `messaging-tools` built from the validated environment. */
export function messagingTools({ env }: Runtime) {
  const { platform, channels, auth } = sendingFunction(env, "messaging-tools");
  const template = env.WHATSAPP_SUMMARY_TEMPLATE;
  return createMessagingToolsHandler({
    ...platform,
    ...channels,
    auth,
    whatsappTemplate: template
      ? { name: template, language: env.WHATSAPP_TEMPLATE_LANGUAGE }
      : undefined,
  });
}
