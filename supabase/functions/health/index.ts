import { loadConfig } from "../_shared/config.ts";
import { createHealthHandler } from "../_shared/health/handler.ts";
import { createPlatform } from "../_shared/platform/deps.ts";
import { serveFunction } from "../_shared/platform/serve.ts";

const { env, sql, logger } = createPlatform(loadConfig(Deno.env.toObject()), "health");

serveFunction(createHealthHandler({ sql, config: env, logger }));
