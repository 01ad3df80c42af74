import { accountsOf, type Platform } from "../platform/deps.ts";
import { createGenesysClient } from "../channels/genesys.ts";
import { createGenesysTokens } from "./token.ts";
import { createGenesysOutbox } from "./outbox.ts";
import { mediaStoreOf } from "../media/storage.ts";

type Bridge = ReturnType<typeof createBridge>;

/** One per platform: wa-webhook and dispatch reach it from their own wiring and the reply path's. */
const bridges = new WeakMap<Platform, Bridge>();

/**
 * The account directory, the Genesys client, the Storage for media and the outbox of posts to
 * Genesys of a function, from its platform (main.ts wiring).
 */
export function bridgeOf(platform: Platform): Bridge {
  let bridge = bridges.get(platform);
  if (!bridge) bridges.set(platform, bridge = createBridge(platform));
  return bridge;
}

function createBridge(platform: Platform) {
  const { env, sql } = platform;
  const accounts = accountsOf(platform);
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
