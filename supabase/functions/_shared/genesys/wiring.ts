import type { Platform } from "../platform/deps.ts";
import { createGenesysClient } from "../channels/genesys.ts";
import { createAccountDirectory } from "../tenants/accounts.ts";
import { createGenesysTokens } from "./token.ts";

/** The account directory and the Genesys client of a function, from its platform (main.ts wiring). */
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
  return { accounts, genesys };
}
