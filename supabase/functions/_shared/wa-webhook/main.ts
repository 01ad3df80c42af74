import { postCallConfigOf } from "../platform/deps.ts";
import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { replierOf } from "../conversations/reply-to-inbound.ts";
import { createWaWebhookHandler } from "./handler.ts";

/** `wa-webhook` built from the validated environment (functions/wa-webhook/index.ts serves it). */
export function waWebhook({ env, waitUntil }: Runtime) {
  const { platform, channels } = sendingFunction(env, "wa-webhook");
  return createWaWebhookHandler({
    ...platform,
    ...channels,
    appSecret: env.WHATSAPP_APP_SECRET,
    verifyToken: env.WHATSAPP_VERIFY_TOKEN,
    waitUntil,
    onInbound: replierOf(platform, channels),
    config: postCallConfigOf(env),
  });
}
