import { postCallConfigOf } from "../platform/deps.ts";
import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createReplyDeps } from "../conversations/reply-to-inbound.ts";
import { inboxWorkerOf } from "../inbox/process-inbox.ts";
import { createDispatchHandler } from "./handler.ts";
import { bridgeOf } from "../genesys/wiring.ts";

/** `dispatch` built from the validated environment. */
export function dispatch({ env }: Runtime) {
  const { platform, outbound, auth } = sendingFunction(env, "dispatch");
  const replies = createReplyDeps(platform, outbound);
  const { outbox } = bridgeOf(platform);
  return createDispatchHandler({
    ...outbound,
    auth,
    replies,
    inbox: inboxWorkerOf(replies),
    // A recovered call ended minutes ago: waiting for its summary any longer is pointless.
    postCall: { ...outbound, config: { ...postCallConfigOf(env), summaryWaitMs: 0 } },
    genesys: outbox,
    archive: {
      sql: platform.sql,
      retentionDays: env.WEBHOOK_ARCHIVE_RETENTION_DAYS,
      batchSize: 5_000,
    },
    defaults: {
      batchSize: env.DISPATCH_BATCH_SIZE,
      timeBudgetMs: env.DISPATCH_TIME_BUDGET_MS,
      leaseSeconds: Math.ceil(env.DISPATCH_TIME_BUDGET_MS / 1000) + 30,
    },
  });
}
