import type { ApiKeys } from "./api-keys.ts";
import type { StackKeys } from "./jwt.ts";
import { type Env, withSandboxProviders } from "./sandbox-env.ts";

export interface FunctionEnvInput {
  /** The stack's own environment (the shell's). It wins over the .env file, as with dotenv. */
  processEnv: Env;
  /** `supabase/functions/.env`, parsed. */
  dotenv: Record<string, string>;
  apiUrl: string;
  dbUrl: string;
  sandboxUrl: string;
  jwtSecret: string;
  keys: StackKeys;
  apiKeys: ApiKeys;
  /** Give the functions the legacy anon/service-role keys and JWT secret too. */
  legacyKeys: boolean;
}

/**
 * The environment every function process gets: what Supabase injects (the SUPABASE_* values are
 * always the stack's, as Supabase reserves that prefix; the legacy keys only while they are
 * enabled), the project's settings, and sandbox values for every provider without real
 * credentials.
 */
export function functionEnv(input: FunctionEnvInput): Record<string, string> {
  const merged: Env = { ...input.dotenv, ...input.processEnv };
  merged.PUBLIC_FUNCTIONS_URL ||= `${input.apiUrl}/functions/v1`;
  return {
    ...withSandboxProviders(merged, input.sandboxUrl),
    SUPABASE_URL: input.apiUrl,
    SUPABASE_DB_URL: input.dbUrl,
    SUPABASE_PUBLISHABLE_KEYS: input.apiKeys.publishableKeys,
    SUPABASE_SECRET_KEYS: input.apiKeys.secretKeys,
    SUPABASE_JWKS: input.apiKeys.jwks,
    ...(input.legacyKeys
      ? {
        SUPABASE_ANON_KEY: input.keys.anon,
        SUPABASE_SERVICE_ROLE_KEY: input.keys.serviceRole,
        SUPABASE_JWT_SECRET: input.jwtSecret,
      }
      : { LEGACY_API_KEYS: "reject" }),
  };
}

/** What a process needs to run (and Deno to find its cache), and none of the project's settings. */
const RUNTIME_VARS = ["PATH", "HOME", "TMPDIR", "LANG", "DENO_DIR", "XDG_CACHE_HOME", "NO_COLOR"];

/**
 * `env` reduced to the runtime's own variables: a stack for tests, the demo or the benchmarks
 * that no developer's credentials in the shell can point at a real provider.
 */
export function runtimeOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of RUNTIME_VARS) if (env[k]) out[k] = env[k]!;
  return out;
}
