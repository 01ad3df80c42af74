import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { createPlatform, outboundOf } from "../_shared/platform/deps.ts";
import { createMessagingToolsHandler } from "../_shared/handlers/messaging-tools.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "messaging-tools");
const { env } = platform;

const handler = createMessagingToolsHandler({
  ...outboundOf(platform),
  auth: authOf("messaging-tools", env),
});

serveFunction(handler);
