import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createReplyDeps, replyingWith, replyOwed } from "../conversations/reply-to-inbound.ts";
import { agentWorkerKickOf, replyAfterRecord } from "../agent-worker/kick.ts";
import { metaAdapterOf } from "../outbound/senders.ts";
import { createMetaWebhookHandler } from "./handler.ts";

/** When the agent-worker cannot be reached: owed replies taken per round, and for how long. */
const OWED_PER_ROUND = 20;
const OWED_BUDGET_MS = 60_000;

/** `meta-webhook` built from the validated environment (functions/meta-webhook/index.ts serves it). */
export function metaWebhook({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "meta-webhook");
  const replies = createReplyDeps(platform, outbound);
  const opts = { fetch: platform.fetch, timeoutMs: env.PROVIDER_TIMEOUT_MS };
  return createMetaWebhookHandler({
    sql: platform.sql,
    logger: platform.logger,
    appSecret: env.META_APP_SECRET,
    verifyToken: env.META_VERIFY_TOKEN,
    waitUntil,
    adapters: {
      messenger: metaAdapterOf(env, "messenger", opts),
      instagram: metaAdapterOf(env, "instagram", opts),
    },
    // As wa-webhook: the reply runs in the agent-worker function; here only when it cannot be
    // reached, and then by one request for every reply owed (the reply lease keeps the two from
    // answering twice).
    onInbound: replyAfterRecord(
      agentWorkerKickOf(env, platform.logger),
      replyingWith(replies),
      () => replyOwed(replies, { limit: OWED_PER_ROUND, deadline: Date.now() + OWED_BUDGET_MS }),
    ),
  });
}
