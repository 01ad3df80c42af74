import { verifyCredentials } from "@supabase/server/core";
import { jwtVerify } from "jose";
import { forbidden, unauthorized } from "./errors.ts";
import { timingSafeEqualString } from "./signature.ts";

/**
 * How a caller may authenticate, as `@supabase/server` names the modes, plus the legacy
 * service-role key/JWT for projects that still have it:
 * - `secret`: a secret key (`sb_secret_…`) in the `apikey` header;
 * - `user`: `Authorization: Bearer <JWT>` verified against the project's JWKS;
 * - `publishable`: a publishable key (`sb_publishable_…`) in the `apikey` header;
 * - `legacy-service-role`: the legacy service-role key, or an HS256 JWT with `role:
 *   service_role` signed with the legacy JWT secret — only while those are configured.
 */
export type AuthMode = "secret" | "user" | "publishable" | "legacy-service-role";

export interface AuthPolicy {
  modes: readonly AuthMode[];
  /** For `user`: the `app_metadata.role` a signed-in operator needs (users cannot edit it). */
  roles?: readonly string[];
}

type Jwks = { keys: Record<string, unknown>[] };

/** The project's keys, parsed once per isolate (see authKeysOf). */
export interface AuthKeys {
  secretKeys: Record<string, string>;
  publishableKeys: Record<string, string>;
  /** Inline JWKS, or the URL `jose` fetches it from (cached per isolate by @supabase/server). */
  jwks: Jwks | URL | null;
  /** Supabase Auth's issuer, `<SUPABASE_URL>/auth/v1`; without it no user JWT is accepted. */
  issuer: string | null;
  legacy: { serviceRoleKey?: string; jwtSecret?: Uint8Array } | null;
}

export interface AuthConfig {
  policy: AuthPolicy;
  keys: AuthKeys;
}

export type Caller =
  | { mode: "secret" | "publishable"; keyName: string }
  | { mode: "user"; userId: string; role: string }
  | { mode: "legacy-service-role" };

/** Supabase Auth puts this audience on every user access token. */
const USER_AUDIENCE = "authenticated";

/**
 * Authenticates `req` against the function's policy, or throws 401 (no or wrong credentials)
 * or 403 (a valid user without the role). Fails closed: a mode whose keys are not configured
 * accepts nothing.
 */
export async function authenticate(req: Request, cfg: AuthConfig): Promise<Caller> {
  const modes = usableModes(cfg);
  // What verifyCredentials would answer first, without its per-request WebCrypto work (it
  // compares keys by importing a fresh random HMAC key and signing both strings: a tenth of
  // post-call-notify's CPU in its profile under load, scripts/profile-function.ts):
  // a secret key, when secret is the first mode, compared in constant time with each named key.
  if (modes[0] === "secret:*") {
    const keyName = secretKeyName(req.headers.get("apikey"), cfg.keys.secretKeys);
    if (keyName !== null) return { mode: "secret", keyName };
  }
  if (modes.length) {
    const { data, error } = await verifyCredentials(
      { token: bearerOf(req), apikey: req.headers.get("apikey") },
      {
        auth: modes,
        audience: USER_AUDIENCE,
        issuer: cfg.keys.issuer ?? undefined,
        env: {
          url: cfg.keys.issuer ?? "http://unused.invalid",
          secretKeys: cfg.keys.secretKeys,
          publishableKeys: cfg.keys.publishableKeys,
          jwks: cfg.keys.jwks ?? undefined,
        },
      },
    );
    if (data) return callerOf(data, cfg.policy);
    if (!acceptsLegacy(cfg)) throw unauthorized(error?.message);
  }
  if (acceptsLegacy(cfg) && await isLegacyServiceRole(req, cfg.keys.legacy!)) {
    return { mode: "legacy-service-role" };
  }
  throw unauthorized("Secret key required");
}

/** The name of the secret key `apikey` is, checking every key in constant time; null for none. */
function secretKeyName(apikey: string | null, keys: Record<string, string>): string | null {
  if (!apikey) return null;
  let found: string | null = null;
  for (const [name, value] of Object.entries(keys)) {
    if (timingSafeEqualString(apikey, value) && found === null) found = name;
  }
  return found;
}

/**
 * The new-style modes this policy allows that the project has keys for. Any named key of the
 * kind is accepted (`:*`), so a new key can be rolled out before the old one is revoked.
 */
function usableModes({ policy, keys }: AuthConfig): ("secret:*" | "user" | "publishable:*")[] {
  return policy.modes.flatMap((m) => {
    if (m === "secret") return Object.keys(keys.secretKeys).length ? ["secret:*" as const] : [];
    if (m === "publishable") {
      return Object.keys(keys.publishableKeys).length ? ["publishable:*" as const] : [];
    }
    if (m === "user") return keys.jwks && keys.issuer ? [m] : [];
    return [];
  });
}

const acceptsLegacy = (cfg: AuthConfig) =>
  cfg.policy.modes.includes("legacy-service-role") && cfg.keys.legacy !== null;

interface Verified {
  authMode: string;
  keyName?: string | null;
  jwtClaims?: Record<string, unknown> | null;
}

function callerOf(data: Verified, policy: AuthPolicy): Caller {
  if (data.authMode === "secret" || data.authMode === "publishable") {
    return { mode: data.authMode, keyName: data.keyName ?? "default" };
  }
  const claims = data.jwtClaims ?? {};
  const appMetadata = (claims.app_metadata ?? {}) as Record<string, unknown>;
  const role = typeof appMetadata.role === "string" ? appMetadata.role : "";
  if (!policy.roles?.includes(role)) {
    throw forbidden("Your account does not have the role this needs");
  }
  return { mode: "user", userId: String(claims.sub), role };
}

function bearerOf(req: Request): string | null {
  const m = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/**
 * The legacy key in `Authorization: Bearer` or `apikey` (as the old clients and pg_net jobs
 * send it), compared in constant time, or an HS256 service-role JWT signed with the legacy
 * secret. HS256 is accepted only here, with that secret, never against the JWKS.
 */
async function isLegacyServiceRole(
  req: Request,
  legacy: NonNullable<AuthKeys["legacy"]>,
): Promise<boolean> {
  const tokens = [bearerOf(req), req.headers.get("apikey")].filter((t): t is string => !!t);
  for (const token of tokens) {
    if (legacy.serviceRoleKey && timingSafeEqualString(token, legacy.serviceRoleKey)) return true;
    if (!legacy.jwtSecret) continue;
    try {
      const key = await legacyHmacKey(legacy.jwtSecret);
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
      if (payload.role === "service_role") return true;
    } catch {
      // an invalid token is the same 401 as a wrong role
    }
  }
  return false;
}

/**
 * The legacy JWT secret as an HMAC CryptoKey, imported once per isolate (jose would import a raw
 * secret again on every verification). Keyed by the secret's bytes object, which authKeysOf
 * builds once per isolate.
 */
const legacyKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function legacyHmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = legacyKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      secret as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    key.catch(() => legacyKeys.delete(secret));
    legacyKeys.set(secret, key);
  }
  return key;
}
