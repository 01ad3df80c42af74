import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { ChannelFailure } from "../outbound/adapter.ts";
import { exchange, httpFailure, joinUrl, missingFields, notConfigured } from "../channels/http.ts";
import type { GenesysAccount } from "../tenants/accounts.ts";

const TokenBody = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().int().positive(),
});

/** A token is handed out only while it has this long to live; then it is refreshed. */
const MIN_TTL_SECONDS = 60;
/** How long the one refreshing caller may take before another may try. */
const LEASE_SECONDS = 15;

export interface GenesysTokenOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** How long a caller waits for another isolate's refresh before giving up. Default 10 s. */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface GenesysTokens {
  /** A valid access token for the integration's OAuth client, or why there is none. */
  get(account: GenesysAccount): Promise<string | ChannelFailure>;
  /** Genesys refused this token (401): forget it here and in the shared cache. */
  refused(account: GenesysAccount, token: string): Promise<void>;
}

/**
 * OAuth client credentials (`POST {login}/oauth/token`, Basic client_id:client_secret) with the
 * token cached in the database per integration (public.claim_oauth_token, the token in Vault)
 * and in this isolate's memory until shortly before `expires_in`. However many isolates start
 * at once, the database grants one of them the refresh and the others wait for its token, so one
 * token request goes out per integration and lifetime; requests of one isolate share one
 * promise (the MTN adapter's stampede guard, one level up).
 */
export function createGenesysTokens(sql: Sql, opts: GenesysTokenOptions = {}): GenesysTokens {
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const waitMs = opts.waitMs ?? 10_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const memory = new Map<string, { token: string; expiresAt: number }>();
  const pending = new Map<string, Promise<string | ChannelFailure>>();

  const keyOf = (a: GenesysAccount) => `genesys:${a.integrationId}`;

  async function request(
    a: GenesysAccount,
  ): Promise<{ token: string; expiresIn: number } | ChannelFailure> {
    const missing = missingFields({
      GENESYS_CLIENT_ID: a.clientId,
      GENESYS_CLIENT_SECRET: a.clientSecret,
    });
    if (missing.length) return notConfigured(missing);
    const result = await exchange(fetchFn, joinUrl(a.loginBaseUrl, "/oauth/token"), {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa(`${a.clientId}:${a.clientSecret}`)}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    }, timeoutMs);
    if (!result.ok) return result.failure;
    const { reply } = result;
    if (reply.status < 200 || reply.status >= 300) {
      const failure = httpFailure(reply);
      return {
        ...failure,
        code: "GENESYS.TOKEN_REFUSED",
        message: `Token request refused: ${failure.message}`,
      };
    }
    const body = TokenBody.safeParse(reply.json);
    if (!body.success) {
      return {
        class: "retryable",
        code: "GENESYS.TOKEN_UNREADABLE",
        message: "Unreadable token answer",
      };
    }
    return { token: body.data.access_token, expiresIn: body.data.expires_in };
  }

  async function shared(a: GenesysAccount): Promise<string | ChannelFailure> {
    const key = keyOf(a);
    const deadline = now() + waitMs;
    for (let wait = 50;; wait = Math.min(wait * 2, 500)) {
      const [claim] = await rpc(sql, "claim_oauth_token", {
        p_token_key: key,
        p_min_ttl_seconds: MIN_TTL_SECONDS,
        p_lease_seconds: LEASE_SECONDS,
      });
      if (claim?.access_token && claim.expires_at) {
        return remember(key, claim.access_token, Date.parse(claim.expires_at));
      }
      if (claim?.refresh) {
        const got = await request(a).catch((): ChannelFailure => ({
          class: "retryable",
          code: "GENESYS.TOKEN_FAILED",
          message: "Token request failed",
        }));
        if (!("token" in got)) {
          await rpcValue(sql, "forget_oauth_token", { p_token_key: key });
          return got;
        }
        const expiresAt = await rpcValue(sql, "store_oauth_token", {
          p_token_key: key,
          p_access_token: got.token,
          p_expires_in_seconds: got.expiresIn,
        }).catch(async (err) => {
          // The lease is released, or every isolate would wait for it to run out.
          await rpcValue(sql, "forget_oauth_token", { p_token_key: key }).catch(() => {});
          throw err;
        });
        return remember(key, got.token, Date.parse(expiresAt));
      }
      if (now() + wait > deadline) {
        return {
          class: "retryable",
          code: "GENESYS.TOKEN_BUSY",
          message: "Token refresh still running",
        };
      }
      await sleep(wait);
    }
  }

  function remember(key: string, token: string, expiresAt: number): string {
    memory.set(key, { token, expiresAt: expiresAt - MIN_TTL_SECONDS * 1000 });
    return token;
  }

  return {
    get(a) {
      const key = keyOf(a);
      const hit = memory.get(key);
      if (hit && hit.expiresAt > now()) return Promise.resolve(hit.token);
      let p = pending.get(key);
      if (!p) {
        p = shared(a).finally(() => pending.delete(key));
        pending.set(key, p);
      }
      return p;
    },
    async refused(a, token) {
      const key = keyOf(a);
      if (memory.get(key)?.token === token) memory.delete(key);
      await rpcValue(sql, "forget_oauth_token", { p_token_key: key, p_access_token: token });
    },
  };
}
