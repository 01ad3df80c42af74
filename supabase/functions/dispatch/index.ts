import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { createPlatform, outboundOf, postCallConfigOf } from "../_shared/platform/deps.ts";
import { createReplyDeps } from "../_shared/conversations/reply-to-inbound.ts";
import { createDispatchHandler } from "../_shared/handlers/dispatch.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "dispatch");
const { env } = platform;
const outbound = outboundOf(platform);

const handler = createDispatchHandler({
  ...outbound,
  auth: authOf("dispatch", env),
  replies: createReplyDeps(platform, outbound),
  // A recovered call ended minutes ago: waiting for its summary any longer is pointless.
  postCall: { ...outbound, config: { ...postCallConfigOf(env), summaryWaitMs: 0 } },
  defaults: {
    batchSize: env.DISPATCH_BATCH_SIZE,
    timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS,
    leaseSeconds: Math.ceil(env.DISPATCH_TIME_BUDGET_MS / 1000) + 30,
  },
});

serveFunction(handler);
