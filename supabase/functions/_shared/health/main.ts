import { createPlatform } from "../platform/deps.ts";
import type { Runtime } from "../platform/runtime.ts";
import { createHealthHandler } from "./handler.ts";

/** `health` built from the validated environment. */
export function health({ env }: Runtime) {
  const { sql, logger } = createPlatform(env, "health");
  return createHealthHandler({ sql, config: env, logger });
}
