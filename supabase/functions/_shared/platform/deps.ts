import type { Env } from "../config.ts";
import { createSql, type Sql } from "../db/client.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { createWhatsAppAdapterFromEnv } from "../channels/whatsapp.ts";
import { createSmsAdapter } from "../channels/sms.ts";

/**
 * What every function is built from, created once per isolate from the validated environment.
 * Tests build the same shapes themselves (a test database, local provider servers).
 */
export interface Platform {
  env: Env;
  sql: Sql;
  logger: Logger;
  fetch: typeof fetch;
}

export function createPlatform(env: Env, name: string): Platform {
  return {
    env,
    sql: createSql(env.SUPABASE_DB_URL, { max: env.DB_POOL_MAX }),
    logger: createLogger({ level: env.LOG_LEVEL, base: { fn: name } }),
    fetch: globalThis.fetch,
  };
}

export function channelsOf(p: Platform) {
  const opts = { fetch: p.fetch, timeoutMs: p.env.PROVIDER_TIMEOUT_MS };
  return {
    whatsapp: createWhatsAppAdapterFromEnv(p.env, opts),
    sms: createSmsAdapter(p.env, opts),
  };
}

export function serviceAuthOf(env: Env) {
  return { serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY, jwtSecret: env.SUPABASE_JWT_SECRET };
}
