import type { Env } from "../config.ts";
import { createSql, type Sql } from "../db/client.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { createWhatsAppAdapterFromEnv } from "../channels/whatsapp.ts";
import { createSmsAdapter } from "../channels/sms.ts";
import { createPacer } from "../outbound/pacing.ts";
import { createSenderDirectory, smsSenderKey, whatsappSenderKey } from "../outbound/senders.ts";

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

/** The channel adapters and the per-sender pacing every send path shares. */
export function channelsOf(p: Platform) {
  const opts = { fetch: p.fetch, timeoutMs: p.env.PROVIDER_TIMEOUT_MS };
  return {
    whatsapp: createWhatsAppAdapterFromEnv(p.env, opts),
    sms: createSmsAdapter(p.env, opts),
    pacing: {
      pacer: createPacer(p.sql),
      whatsapp: { key: whatsappSenderKey(p.env), ratePerSecond: p.env.WHATSAPP_RATE_PER_SECOND },
      sms: { key: smsSenderKey(p.env), ratePerSecond: p.env.SMS_RATE_PER_SECOND },
      maxWaitMs: 5_000,
    },
  };
}

/** Every sender by key, for dispatch (which re-sends rows from several senders). */
export function senderDirectoryOf(p: Platform) {
  return createSenderDirectory(p.env, { fetch: p.fetch, timeoutMs: p.env.PROVIDER_TIMEOUT_MS });
}

/** The post-call use-case's settings, the same for post-call-notify and wa-webhook's calls. */
export function postCallConfigOf(env: Env) {
  return {
    summaryTemplate: env.WHATSAPP_SUMMARY_TEMPLATE,
    templateLanguage: env.WHATSAPP_TEMPLATE_LANGUAGE,
    summaryWaitMs: env.POST_CALL_SUMMARY_WAIT_MS,
    summaryPollMs: env.POST_CALL_SUMMARY_POLL_MS,
    sendTimeoutMs: env.PROVIDER_TIMEOUT_MS + 2_000,
    channels: env.POST_CALL_CHANNELS,
  };
}
