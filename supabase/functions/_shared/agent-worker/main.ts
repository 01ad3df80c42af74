import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createReplyDeps } from "../conversations/reply-to-inbound.ts";
import { inboxWorkerOf } from "../inbox/process-inbox.ts";
import { createAgentWorkerHandler } from "./handler.ts";
import { agentWorkerKickOf } from "./kick.ts";

/** `agent-worker` built from the validated environment (functions/agent-worker/index.ts serves it). */
export function agentWorker({ env, waitUntil }: Runtime) {
  const { platform, outbound, auth } = sendingFunction(env, "agent-worker");
  const self = agentWorkerKickOf(env, platform.logger);
  const replies = createReplyDeps(platform, outbound);
  return createAgentWorkerHandler({
    logger: platform.logger,
    auth,
    replies,
    inbox: inboxWorkerOf(replies),
    defaults: { limit: 20, timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS },
    onBacklog: self ? () => waitUntil(self.kick()) : undefined,
  });
}
