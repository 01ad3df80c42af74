import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { authOf, type FunctionName } from "../../supabase/functions/_shared/http/function-auth.ts";

export const API_URL = "http://127.0.0.1:54321";
export const ISSUER = `${API_URL}/auth/v1`;

/** A project's new-style keys, as Supabase provisions them: API keys and an ES256 signing key. */
export async function projectKeys() {
  const signing = await generateKeyPair("ES256", { extractable: true });
  const kid = "test-signing-key";
  const jwk = { ...(await exportJWK(signing.publicKey)), kid, alg: "ES256", use: "sig" };
  const secret = `sb_secret_${crypto.randomUUID().replaceAll("-", "")}`;
  const publishable = `sb_publishable_${crypto.randomUUID().replaceAll("-", "")}`;
  return {
    secret,
    publishable,
    kid,
    privateKey: signing.privateKey,
    /** What the function gets: SUPABASE_URL, the named keys and the JWKS. */
    env: {
      SUPABASE_URL: API_URL,
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: secret }),
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: publishable }),
      SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
    },
    /** A user access token as Supabase Auth issues it (ES256, kid, iss, aud, exp). */
    userToken(
      claims: JWTPayload = {},
      opts: { key?: CryptoKey; kid?: string; exp?: string | number } = {},
    ) {
      return new SignJWT({
        sub: crypto.randomUUID(),
        role: "authenticated",
        aud: "authenticated",
        iss: ISSUER,
        ...claims,
      })
        .setProtectedHeader({ alg: "ES256", kid: opts.kid ?? kid, typ: "JWT" })
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? "1h")
        .sign(opts.key ?? signing.privateKey);
    },
  };
}

/** An unsigned token (`alg: none`), for the attack it is. */
export function unsignedToken(payload: JWTPayload): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
}

/** An HS256 token signed with `secret`: legacy, or an algorithm-confusion attempt. */
export function hs256Token(payload: JWTPayload, secret: string | Uint8Array, kid?: string) {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) })
    .setExpirationTime("1h")
    .sign(key);
}

/** Request headers carrying an API key, as supabase-js sends it. */
export const withApiKey = (key: string) => ({ apikey: key });
export const withBearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A function's auth as deployed on a project whose only key is `secret` (legacy keys gone). */
export function secretKeyAuth(name: FunctionName, secret: string) {
  return authOf(
    name,
    loadConfig({
      SUPABASE_DB_URL: "postgres://unused@127.0.0.1/postgres",
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: secret }),
    }),
  );
}
