import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { bridgeOf } from "../genesys/wiring.ts";
import { createGenesysWebhookHandler } from "./handler.ts";
import { mediaStoreOf } from "../media/storage.ts";
import { createGenesysOutbox } from "../genesys/outbox.ts";

/** `genesys-webhook` built from the validated environment (functions/genesys-webhook/index.ts). */
export function genesysWebhook({ env }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "genesys-webhook");
  const { accounts, genesys } = bridgeOf(platform);
  const media = mediaStoreOf(env, platform.fetch);
  const outbox = createGenesysOutbox({
    sql: platform.sql,
    logger: platform.logger,
    genesys,
    accounts,
    media,
  });
  return createGenesysWebhookHandler({
    ...outbound,
    integrations: accounts,
    genesys,
    media,
    outbox,
  });
}
