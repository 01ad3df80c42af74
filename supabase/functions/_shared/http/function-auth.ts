import type { Env } from "../config.ts";
import type { AuthConfig, AuthKeys, AuthPolicy } from "./auth.ts";
import { jwksSource } from "./jwks-source.ts";

/** Internal: called by other services and pg_cron with a secret key (or the legacy key). */
const INTERNAL: AuthPolicy = { modes: ["secret", "legacy-service-role"] };

/**
 * Who may call each function: the one place to read it. Functions that verify callers
 * themselves have `verify_jwt = false` in supabase/config.toml, as Supabase recommends with JWT
 * signing keys (a test keeps the two in step). Webhooks are `none` here: every request carries
 * its provider's signature, checked in the handler.
 */
export const FUNCTION_AUTH = {
  "post-call-notify": INTERNAL,
  "messaging-tools": INTERNAL,
  // The webhooks hand it the AI replies they owe (supabase/functions/agent-worker).
  "agent-worker": INTERNAL,
  // Tenant and channel-account admin (the console's portal, or a hosted one): credentials go in
  // through it, so only the project's own secret key.
  tenants: INTERNAL,
  // Operators drain the outbox by hand after `retry_delivery` (docs/runbook.md).
  dispatch: { modes: ["secret", "legacy-service-role", "user"], roles: ["operator"] },
  health: { modes: [] },
  // The raw webhook archive and its replays: the console's operators, or a secret key.
  "webhook-archive": { modes: ["secret", "legacy-service-role", "user"], roles: ["operator"] },
  // Other systems (an ERP, a booking system) with a secret key; operators and agents from the
  // console with their JWT (docs/api.md).
  messages: { modes: ["secret", "legacy-service-role", "user"], roles: ["operator", "agent"] },
  "sms-inbound": { modes: [] },
  "email-inbound": { modes: [] },
  // The link in every marketing email: its signed token is the authentication.
  "email-unsubscribe": { modes: [] },
  "wa-webhook": { modes: [] },
  "genesys-webhook": { modes: [] },
  "meta-webhook": { modes: [] },
} satisfies Record<string, AuthPolicy>;

export type FunctionName = keyof typeof FUNCTION_AUTH;

/** The keys of the project, from the environment Supabase provisions (once per isolate). */
export function authKeysOf(env: Env): AuthKeys {
  const legacy = env.LEGACY_API_KEYS === "accept" &&
      (env.SUPABASE_SERVICE_ROLE_KEY || env.SUPABASE_JWT_SECRET)
    ? {
      serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY,
      jwtSecret: env.SUPABASE_JWT_SECRET
        ? new TextEncoder().encode(env.SUPABASE_JWT_SECRET)
        : undefined,
    }
    : null;
  return {
    secretKeys: env.SUPABASE_SECRET_KEYS ?? {},
    publishableKeys: env.SUPABASE_PUBLISHABLE_KEYS ?? {},
    jwks: env.SUPABASE_JWKS ? jwksSource(env.SUPABASE_JWKS) : jwksUrlOf(env),
    issuer: env.SUPABASE_URL ? `${env.SUPABASE_URL.replace(/\/+$/, "")}/auth/v1` : null,
    legacy,
  };
}

/** SUPABASE_JWKS_URL, or the project's own endpoint (what Supabase Auth publishes). */
function jwksUrlOf(env: Env): URL | null {
  if (env.SUPABASE_JWKS_URL) return new URL(env.SUPABASE_JWKS_URL);
  return env.SUPABASE_URL
    ? new URL(`${env.SUPABASE_URL.replace(/\/+$/, "")}/auth/v1/.well-known/jwks.json`)
    : null;
}

export function authOf(name: FunctionName, env: Env): AuthConfig {
  return { policy: FUNCTION_AUTH[name], keys: authKeysOf(env) };
}
