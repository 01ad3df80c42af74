import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { bridgeOf } from "../genesys/wiring.ts";
import { createGenesysWebhookHandler } from "./handler.ts";

/** `genesys-webhook` built from the validated environment (functions/genesys-webhook/index.ts). */
export function genesysWebhook({ env }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "genesys-webhook");
  const { accounts, genesys, media, outbox } = bridgeOf(platform);
  return createGenesysWebhookHandler({
    ...outbound,
    integrations: accounts,
    genesys,
    media,
    outbox,
  });
}
