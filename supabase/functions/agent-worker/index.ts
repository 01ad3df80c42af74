import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { createPlatform, outboundOf } from "../_shared/platform/deps.ts";
import { createReplyDeps } from "../_shared/conversations/reply-to-inbound.ts";
import { createAgentWorkerHandler } from "../_shared/agent-worker/handler.ts";
import { agentWorkerKickOf } from "../_shared/agent-worker/kick.ts";
import { backgroundTracker, type WaitUntil } from "../_shared/platform/background.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "agent-worker");
const { env } = platform;
const self = agentWorkerKickOf(env, platform.logger);
// deno-lint-ignore no-explicit-any
const edge = (globalThis as any).EdgeRuntime;
const waitUntil: WaitUntil = edge?.waitUntil?.bind(edge) ?? backgroundTracker().waitUntil;

const handler = createAgentWorkerHandler({
  logger: platform.logger,
  auth: authOf("agent-worker", env),
  replies: createReplyDeps(platform, outboundOf(platform)),
  defaults: { limit: 20, timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS },
  onBacklog: self ? () => waitUntil(self.kick()) : undefined,
});

serveFunction(handler);
