import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { channelsOf, createPlatform, postCallConfigOf } from "../_shared/platform/deps.ts";
import { backgroundTracker, type WaitUntil } from "../_shared/platform/background.ts";
import { createReplyDeps, replyToInbound } from "../_shared/conversations/reply-to-inbound.ts";
import { createWaWebhookHandler } from "../_shared/wa-webhook/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "wa-webhook");
const { env } = platform;
const channels = channelsOf(platform);
const replyDeps = createReplyDeps(platform, channels);
// deno-lint-ignore no-explicit-any
const edge = (globalThis as any).EdgeRuntime;
const waitUntil: WaitUntil = edge?.waitUntil?.bind(edge) ?? backgroundTracker().waitUntil;

const handler = createWaWebhookHandler({
  ...platform,
  ...channels,
  appSecret: env.WHATSAPP_APP_SECRET,
  verifyToken: env.WHATSAPP_VERIFY_TOKEN,
  waitUntil,
  onInbound: async (inbound) => {
    await replyToInbound(replyDeps, inbound);
  },
  config: postCallConfigOf(env),
});

serveFunction(handler);
