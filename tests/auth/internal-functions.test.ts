/**
 * Who may call the internal functions, mode by mode, through the real dispatch handler
 * (secret key, legacy service role, and operators' user JWTs) with the keys parsed from the
 * environment exactly as the function reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  hs256Token,
  ISSUER,
  projectKeys,
  unsignedToken,
  withApiKey,
  withBearer,
} from "../support/auth.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { createDispatchHandler } from "../../supabase/functions/_shared/dispatch/handler.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";

const LEGACY_SECRET = "legacy-jwt-secret-with-at-least-32-characters";
const LEGACY_SERVICE_KEY = "legacy-service-role-key-for-tests";

let db: TestDatabase;
let keys: Awaited<ReturnType<typeof projectKeys>>;
beforeAll(async () => {
  [db, keys] = await Promise.all([createTestDatabase(), projectKeys()]);
});
afterAll(() => db?.close());

/** The dispatch function as deployed, with `extra` in its environment. */
function dispatch(extra: Record<string, string> = {}) {
  const env = loadConfig({ SUPABASE_DB_URL: db.url, ...keys.env, ...extra });
  return createDispatchHandler({
    sql: db.sql,
    logger: memoryLogger(),
    senders: createSenderDirectory(env),
    pacer: createPacer(db.sql),
    auth: authOf("dispatch", env),
    defaults: { batchSize: 10, timeBudgetMs: 1_000, leaseSeconds: 35 },
  });
}

const legacyEnv = {
  SUPABASE_SERVICE_ROLE_KEY: LEGACY_SERVICE_KEY,
  SUPABASE_JWT_SECRET: LEGACY_SECRET,
};

async function status(headers: Record<string, string>, extra?: Record<string, string>) {
  const res = await dispatch(extra)(
    new Request("http://localhost/dispatch", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ replies: false }),
    }),
  );
  await res.body?.cancel();
  return res.status;
}

describe("internal functions: secret key", () => {
  it("accepts the secret key in the apikey header, as supabase-js sends it", async () => {
    expect(await status(withApiKey(keys.secret))).toBe(200);
    expect(await status({ ...withApiKey(keys.secret), ...withBearer(keys.secret) })).toBe(200);
  });

  it("accepts every named secret key, so a new key can be rolled out before the old is revoked", async () => {
    const rotated = {
      SUPABASE_SECRET_KEYS: JSON.stringify({
        default: "sb_secret_new_one_123456",
        old: keys.secret,
      }),
    };
    expect(await status(withApiKey(keys.secret), rotated)).toBe(200);
    expect(await status(withApiKey("sb_secret_new_one_123456"), rotated)).toBe(200);
    const revoked = {
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: "sb_secret_new_one_123456" }),
    };
    expect(await status(withApiKey(keys.secret), revoked)).toBe(401);
  });

  it("rejects a publishable key, a wrong or truncated secret key, and no key", async () => {
    expect(await status(withApiKey(keys.publishable))).toBe(401);
    expect(await status(withApiKey(`sb_secret_${"x".repeat(32)}`))).toBe(401);
    expect(await status(withApiKey(keys.secret.slice(0, -1)))).toBe(401);
    expect(await status(withApiKey(`${keys.secret}x`))).toBe(401);
    expect(await status({})).toBe(401);
  });

  it("does not take a secret key from Authorization alone (it is not a JWT)", async () => {
    expect(await status(withBearer(keys.secret))).toBe(401);
  });

  it("fails closed when the project has no keys at all", async () => {
    expect(await status(withApiKey(keys.secret), { SUPABASE_SECRET_KEYS: "{}" })).toBe(401);
  });
});

describe("internal functions: operators' user JWTs (dispatch)", () => {
  const operator = { app_metadata: { role: "operator" } };

  it("accepts a JWKS-signed token of a user with the operator role", async () => {
    expect(await status(withBearer(await keys.userToken(operator)))).toBe(200);
  });

  it("answers 403 to a signed-in user without the role (user_metadata does not count)", async () => {
    expect(await status(withBearer(await keys.userToken()))).toBe(403);
    expect(await status(withBearer(await keys.userToken({ user_metadata: { role: "operator" } }))))
      .toBe(403);
  });

  it("rejects expired, wrong-issuer, wrong-audience and foreign-key tokens", async () => {
    const other = await projectKeys();
    const bad = [
      await keys.userToken(operator, { exp: Math.floor(Date.now() / 1000) - 60 }),
      await keys.userToken({ ...operator, iss: "https://other.supabase.co/auth/v1" }),
      await keys.userToken({ ...operator, aud: "anon" }),
      await keys.userToken(operator, { key: other.privateKey }), // same kid, another key
      await other.userToken(operator), // another project's key id
    ];
    for (const token of bad) expect(await status(withBearer(token))).toBe(401);
  });

  it("rejects alg none and HS256 tokens where only the JWKS is trusted (algorithm confusion)", async () => {
    const claims = {
      ...operator,
      sub: crypto.randomUUID(),
      aud: "authenticated",
      iss: ISSUER,
      role: "service_role",
    };
    const jwkX = JSON.parse(keys.env.SUPABASE_JWKS).keys[0].x as string;
    const forged = [
      unsignedToken(claims),
      await hs256Token(claims, keys.env.SUPABASE_JWKS, keys.kid), // the public JWKS as HMAC secret
      await hs256Token(claims, jwkX, keys.kid),
      await hs256Token(claims, LEGACY_SECRET, keys.kid), // no legacy secret configured here
    ];
    for (const token of forged) expect(await status(withBearer(token))).toBe(401);
  });
});

describe("internal functions: legacy service role", () => {
  it("accepts the legacy key and service-role JWT while they are configured", async () => {
    const jwt = await hs256Token({ role: "service_role" }, LEGACY_SECRET);
    expect(await status(withBearer(LEGACY_SERVICE_KEY), legacyEnv)).toBe(200);
    expect(await status(withApiKey(LEGACY_SERVICE_KEY), legacyEnv)).toBe(200);
    expect(await status(withBearer(jwt), legacyEnv)).toBe(200);
    expect(await status(withBearer(await hs256Token({ role: "anon" }, LEGACY_SECRET)), legacyEnv))
      .toBe(401);
  });

  it("rejects them once the project no longer has them, or with LEGACY_API_KEYS=reject", async () => {
    const jwt = await hs256Token({ role: "service_role" }, LEGACY_SECRET);
    expect(await status(withBearer(LEGACY_SERVICE_KEY))).toBe(401);
    expect(await status(withBearer(jwt))).toBe(401);
    const rejecting = { ...legacyEnv, LEGACY_API_KEYS: "reject" };
    expect(await status(withBearer(LEGACY_SERVICE_KEY), rejecting)).toBe(401);
    expect(await status(withBearer(jwt), rejecting)).toBe(401);
    expect(await status(withApiKey(keys.secret), rejecting)).toBe(200);
  });
});
