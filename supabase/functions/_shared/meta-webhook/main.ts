import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { replierOf } from "../conversations/reply-to-inbound.ts";
import { agentWorkerKickOf } from "../agent-worker/kick.ts";
import { metaAdapterOf } from "../outbound/senders.ts";
import { createMetaWebhookHandler } from "./handler.ts";

/** `meta-webhook` built from the validated environment (functions/meta-webhook/index.ts serves it). */
export function metaWebhook({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "meta-webhook");
  const reply = replierOf(platform, outbound);
  const agentWorker = agentWorkerKickOf(env, platform.logger);
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
    // reached (its claim keeps the two from answering twice).
    onInbound: async (inbound) => {
      if (agentWorker && await agentWorker.kick()) return;
      await reply(inbound);
    },
  });
}
