import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import {
  channelsOf,
  createPlatform,
  postCallConfigOf,
  senderDirectoryOf,
} from "../_shared/platform/deps.ts";
import { createReplyDeps } from "../_shared/conversations/reply-to-inbound.ts";
import { createDispatchHandler } from "../_shared/dispatch/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "dispatch");
const { env } = platform;
const channels = channelsOf(platform);

const handler = createDispatchHandler({
  ...platform,
  senders: senderDirectoryOf(platform),
  pacer: channels.pacing.pacer,
  auth: authOf("dispatch", env),
  replies: createReplyDeps(platform, channels),
  // A recovered call ended minutes ago: waiting for its summary any longer is pointless.
  postCall: { ...platform, ...channels, config: { ...postCallConfigOf(env), summaryWaitMs: 0 } },
  defaults: {
    batchSize: env.DISPATCH_BATCH_SIZE,
    timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS,
    leaseSeconds: Math.ceil(env.DISPATCH_TIME_BUDGET_MS / 1000) + 30,
  },
});

serveFunction(handler);
