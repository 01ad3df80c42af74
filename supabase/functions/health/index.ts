import { loadConfig } from "../_shared/config.ts";
import { createHealthHandler } from "../_shared/health/check-health.ts";
import { createPlatform } from "../_shared/platform/deps.ts";

const { env, sql, logger } = createPlatform(loadConfig(Deno.env.toObject()), "health");

Deno.serve(
  { port: Number(Deno.env.get("EDGE_FUNCTION_PORT") ?? "8000") },
  createHealthHandler({ sql, config: env, logger }),
);
