import { postCallConfigOf } from "../platform/deps.ts";
import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createReplyDeps } from "../conversations/reply-to-inbound.ts";
import { inboxWorkerOf } from "../inbox/process-inbox.ts";
import { afterAccept, agentWorkerKickOf } from "../agent-worker/kick.ts";
import { createWaWebhookHandler } from "./handler.ts";
import { bridgeOf } from "../genesys/wiring.ts";
import { createAgentForwarder } from "../genesys/forward-inbound.ts";
import { createReceiptForwarder } from "../genesys/receipts.ts";

/** A received file that failed to download is tried again after 1 s and after 5 s more. */
const MEDIA_RETRY_DELAYS_MS = [1_000, 5_000];

/** `wa-webhook` built from the validated environment (functions/wa-webhook/index.ts serves it). */
export function waWebhook({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "wa-webhook");
  const inboxWorker = inboxWorkerOf(createReplyDeps(platform, outbound));
  const agentWorker = agentWorkerKickOf(env, platform.logger);
  const { accounts, media, outbox } = bridgeOf(platform);
  return createWaWebhookHandler({
    ...outbound,
    accounts,
    toAgents: createAgentForwarder({
      sql: platform.sql,
      logger: platform.logger,
      media: {
        sql: platform.sql,
        store: media,
        source: {
          baseUrl: env.WHATSAPP_API_BASE_URL,
          fetch: platform.fetch,
          timeoutMs: env.PROVIDER_TIMEOUT_MS,
        },
        defaultToken: env.WHATSAPP_ACCESS_TOKEN,
        retryDelaysMs: MEDIA_RETRY_DELAYS_MS,
      },
      outbox,
    }),
    receiptToAgents: createReceiptForwarder({
      sql: platform.sql,
      logger: platform.logger,
      outbox,
      integration: accounts.genesys,
    }),
    verifyToken: env.WHATSAPP_VERIFY_TOKEN,
    waitUntil,
    // The accepted messages are derived and answered by the agent-worker function, off this
    // request path and pool; here only when the worker cannot be reached (the inbox claim and
    // the reply claim keep the two from doing anything twice).
    onAccepted: afterAccept(agentWorker, inboxWorker),
    config: postCallConfigOf(env),
  });
}
