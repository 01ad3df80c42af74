import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createMessagesHandler } from "./handler.ts";
import { templatesOf } from "./templates.ts";

/** `messages` built from the validated environment (functions/messages/index.ts serves it). */
export function messages({ env, waitUntil }: Runtime) {
  const { platform, outbound, auth } = sendingFunction(env, "messages");
  return createMessagesHandler({
    ...outbound,
    auth,
    templates: templatesOf(platform.sql),
    defaultCountry: env.DEFAULT_COUNTRY,
    ratePerMinute: env.MESSAGES_API_RATE_PER_MINUTE,
    waitUntil,
  });
}
