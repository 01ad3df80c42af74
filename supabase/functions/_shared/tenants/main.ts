import { authOf } from "../http/function-auth.ts";
import { createPlatform } from "../platform/deps.ts";
import type { Runtime } from "../platform/runtime.ts";
import { createTenantsHandler } from "./handler.ts";

/** `tenants` built from the validated environment (functions/tenants/index.ts serves it). */
export function tenants({ env }: Runtime) {
  const platform = createPlatform(env, "tenants");
  return createTenantsHandler({
    sql: platform.sql,
    logger: platform.logger,
    auth: authOf("tenants", env),
    checks: {
      whatsappApiBaseUrl: env.WHATSAPP_API_BASE_URL,
      metaGraphBaseUrl: env.META_GRAPH_BASE_URL,
      genesysLoginBaseUrl: env.GENESYS_LOGIN_BASE_URL,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
      fetch: platform.fetch,
    },
  });
}
