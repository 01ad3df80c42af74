import { parse } from "smol-toml";

export interface FunctionSettings {
  verifyJwt: boolean;
}

/**
 * `[functions.<name>]` settings from supabase/config.toml. verify_jwt defaults to true, as on
 * Supabase: a function is public only when the config says so.
 */
export function readFunctionSettings(configToml: string): (name: string) => FunctionSettings {
  const config = parse(configToml) as { functions?: Record<string, { verify_jwt?: unknown }> };
  const functions = config.functions ?? {};
  return (name) => ({ verifyJwt: functions[name]?.verify_jwt !== false });
}
