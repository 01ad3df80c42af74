import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { createPlatform, outboundOf, postCallConfigOf } from "../_shared/platform/deps.ts";
import { backgroundTracker, type WaitUntil } from "../_shared/platform/background.ts";
import { createReplyDeps, replyToInbound } from "../_shared/conversations/reply-to-inbound.ts";
import { createWaWebhookHandler } from "../_shared/handlers/wa-webhook.ts";
import { agentWorkerKickOf } from "../_shared/agent-worker/kick.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "wa-webhook");
const { env } = platform;
const outbound = outboundOf(platform);
const replyDeps = createReplyDeps(platform, outbound);
const agentWorker = agentWorkerKickOf(env, platform.logger);
// deno-lint-ignore no-explicit-any
const edge = (globalThis as any).EdgeRuntime;
const waitUntil: WaitUntil = edge?.waitUntil?.bind(edge) ?? backgroundTracker().waitUntil;

const handler = createWaWebhookHandler({
  ...outbound,
  appSecret: env.WHATSAPP_APP_SECRET,
  verifyToken: env.WHATSAPP_VERIFY_TOKEN,
  waitUntil,
  // The reply runs in the agent-worker function, off this request path and pool; here only
  // when the worker cannot be reached (its claim keeps the two from answering twice).
  onInbound: async (inbound) => {
    if (agentWorker && await agentWorker.kick()) return;
    await replyToInbound(replyDeps, inbound);
  },
  config: postCallConfigOf(env),
});

serveFunction(handler);
