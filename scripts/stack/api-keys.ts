import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

type Env = Record<string, string | undefined>;

/**
 * The local project's keys, as Supabase provisions them: a publishable and a secret API key,
 * and an ES256 signing key whose public half is the JWKS the functions verify user JWTs with.
 */
export interface ApiKeys {
  publishable: string;
  secret: string;
  /** SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS: JSON of named keys. */
  publishableKeys: string;
  secretKeys: string;
  /** SUPABASE_JWKS: `{"keys":[…]}`, public keys only. */
  jwks: string;
  /** Signs a user access token, when the stack holds the private key (not with SUPABASE_JWKS). */
  signUserToken?(claims: Record<string, unknown>, issuer: string): Promise<string>;
}

interface Stored {
  publishable: string;
  secret: string;
  signingKey: JWK;
}

const randomKey = (prefix: string) => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
};

async function generate(): Promise<Stored> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = crypto.randomUUID();
  return {
    publishable: randomKey("sb_publishable_"),
    secret: randomKey("sb_secret_"),
    signingKey: { ...(await exportJWK(privateKey)), kid, alg: "ES256", use: "sig" },
  };
}

/** The stored keys, created on first use; `null` keeps them in memory (throwaway stacks). */
async function storedKeys(file: string | null): Promise<Stored> {
  if (file) {
    try {
      return JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
    }
  }
  const keys = await generate();
  if (file) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  return keys;
}

/** The `default` key of a JSON of named keys (or the first one). */
function defaultOf(json: string, name: string): string {
  let keys: Record<string, string>;
  try {
    keys = JSON.parse(json);
  } catch {
    throw new Error(`${name} must be JSON of named keys, e.g. {"default":"sb_…"}`);
  }
  const key = keys.default ?? Object.values(keys)[0];
  if (typeof key !== "string" || !key) throw new Error(`${name} has no key`);
  return key;
}

/**
 * The stack's keys: SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS / SUPABASE_JWKS from `env`
 * when set there, otherwise the ones kept in `file` (generated the first time).
 */
export async function loadApiKeys(file: string | null, env: Env): Promise<ApiKeys> {
  const stored = await storedKeys(file);
  const { d: _private, ...publicJwk } = stored.signingKey;
  const publishableKeys = env.SUPABASE_PUBLISHABLE_KEYS ||
    JSON.stringify({ default: stored.publishable });
  const secretKeys = env.SUPABASE_SECRET_KEYS || JSON.stringify({ default: stored.secret });
  const signingKey = env.SUPABASE_JWKS ? null : await importJWK(stored.signingKey, "ES256");
  return {
    publishable: defaultOf(publishableKeys, "SUPABASE_PUBLISHABLE_KEYS"),
    secret: defaultOf(secretKeys, "SUPABASE_SECRET_KEYS"),
    publishableKeys,
    secretKeys,
    jwks: env.SUPABASE_JWKS || JSON.stringify({ keys: [publicJwk] }),
    signUserToken: signingKey
      ? (claims, issuer) =>
        new SignJWT({ aud: "authenticated", role: "authenticated", ...claims })
          .setProtectedHeader({ alg: "ES256", kid: stored.signingKey.kid, typ: "JWT" })
          .setIssuer(issuer)
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(signingKey)
      : undefined,
  };
}
