import type { Env } from "../config.ts";
import { createSql, type Sql } from "../db/client.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { createPacer } from "../outbound/pacing.ts";
import { createSenderDirectory } from "../outbound/senders.ts";
import { type AccountDirectory, createAccountDirectory } from "../tenants/accounts.ts";
import type { OutboundDeps } from "../outbound/send.ts";

/**
 * What every function is built from, created once per isolate from the validated environment.
 * Tests build the same shapes themselves (a test database, local provider servers).
 */
export interface Platform {
  env: Env;
  sql: Sql;
  /**
   * The pacing tokens' own connection (one, opened on the first lease): a lease must not queue
   * behind the isolate's other statements in `sql`'s pool, or a sender's bucket fills past its
   * burst while it waits and what it refilled is lost (measured: an 80/s sender sent 5–11/s with
   * the pool busy, most sends deferred; 79/s on its own connection). Unset: `sql`.
   */
  pacingSql?: Sql;
  logger: Logger;
  fetch: typeof fetch;
}

export function createPlatform(env: Env, name: string): Platform {
  return {
    env,
    sql: createSql(env.SUPABASE_DB_URL, { max: env.DB_POOL_MAX, prepare: env.DB_PREPARE }),
    pacingSql: createSql(env.SUPABASE_DB_URL, { max: 1, prepare: env.DB_PREPARE }),
    logger: createLogger({ level: env.LOG_LEVEL, base: { fn: name } }),
    fetch: globalThis.fetch,
  };
}

const directories = new WeakMap<Platform, AccountDirectory>();

/**
 * The isolate's one directory of channel accounts (tenants/accounts.ts): the senders, the
 * webhooks and the Genesys bridge share it, so its per-isolate cache is filled once.
 */
export function accountsOf(p: Platform): AccountDirectory {
  let accounts = directories.get(p);
  if (!accounts) directories.set(p, accounts = createAccountDirectory(p.sql, p.env));
  return accounts;
}

/** Everything a send path needs: the senders from the environment and their pacing. */
export function outboundOf(p: Platform): OutboundDeps {
  const { env } = p;
  return {
    sql: p.sql,
    logger: p.logger,
    senders: createSenderDirectory(env, {
      fetch: p.fetch,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
      whatsappAccounts: accountsOf(p),
    }),
    pacer: createPacer(p.pacingSql ?? p.sql),
    maxWaitMs: 5_000,
    ...(env.WHATSAPP_SUMMARY_TEMPLATE
      ? {
        whatsappTemplate: {
          name: env.WHATSAPP_SUMMARY_TEMPLATE,
          language: env.WHATSAPP_TEMPLATE_LANGUAGE,
        },
      }
      : {}),
  };
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
