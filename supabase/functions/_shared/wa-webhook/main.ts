import { postCallConfigOf } from "../platform/deps.ts";
import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { replierOf } from "../conversations/reply-to-inbound.ts";
import { agentWorkerKickOf } from "../agent-worker/kick.ts";
import { createWaWebhookHandler } from "./handler.ts";
import { bridgeOf } from "../genesys/wiring.ts";
import { createAgentForwarder } from "../genesys/forward-inbound.ts";
import { createReceiptForwarder } from "../genesys/receipts.ts";

/** `wa-webhook` built from the validated environment (functions/wa-webhook/index.ts serves it). */
export function waWebhook({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "wa-webhook");
  const reply = replierOf(platform, outbound);
  const agentWorker = agentWorkerKickOf(env, platform.logger);
  const { accounts, genesys } = bridgeOf(platform);
  return createWaWebhookHandler({
    ...outbound,
    accounts,
    toAgents: createAgentForwarder({
      sql: platform.sql,
      logger: platform.logger,
      genesys,
      integrationOf: accounts.genesysOfTenant,
    }),
    receiptToAgents: createReceiptForwarder({
      sql: platform.sql,
      logger: platform.logger,
      genesys,
      integration: accounts.genesys,
    }),
    verifyToken: env.WHATSAPP_VERIFY_TOKEN,
    waitUntil,
    // The reply runs in the agent-worker function, off this request path and pool; here only
    // when the worker cannot be reached (its claim keeps the two from answering twice).
    onInbound: async (inbound) => {
      if (agentWorker && await agentWorker.kick()) return;
      await reply(inbound);
    },
    config: postCallConfigOf(env),
  });
}
