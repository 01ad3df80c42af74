import type { Platform } from "../platform/deps.ts";
import { createGenesysClient } from "../channels/genesys.ts";
import { createAccountDirectory } from "../tenants/accounts.ts";
import { createGenesysTokens } from "./token.ts";
import { createGenesysOutbox } from "./outbox.ts";
import { mediaStoreOf } from "../media/storage.ts";

/**
 * The account directory, the Genesys client, the Storage for media and the outbox of posts to
 * Genesys of a function, from its platform (main.ts wiring).
 */
export function bridgeOf(platform: Platform) {
  const { env, sql } = platform;
  const accounts = createAccountDirectory(sql, env);
  const tokens = createGenesysTokens(sql, {
    fetch: platform.fetch,
    timeoutMs: env.PROVIDER_TIMEOUT_MS,
  });
  const genesys = createGenesysClient(tokens, {
    fetch: platform.fetch,
    timeoutMs: env.PROVIDER_TIMEOUT_MS,
  });
  const media = mediaStoreOf(env, platform.fetch);
  const outbox = createGenesysOutbox({ sql, logger: platform.logger, genesys, accounts, media });
  return { accounts, genesys, media, outbox };
}
