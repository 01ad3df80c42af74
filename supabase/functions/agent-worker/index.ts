import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { channelsOf, createPlatform } from "../_shared/platform/deps.ts";
import { createReplyDeps } from "../_shared/conversations/reply-to-inbound.ts";
import { createAgentWorkerHandler } from "../_shared/agent-worker/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "agent-worker");
const { env } = platform;

const handler = createAgentWorkerHandler({
  logger: platform.logger,
  auth: authOf("agent-worker", env),
  replies: createReplyDeps(platform, channelsOf(platform)),
  defaults: { limit: 20, timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS },
});

serveFunction(handler);
