import type { Env } from "../config.ts";
import { authOf, type FunctionName } from "../http/function-auth.ts";
import type { WaitUntil } from "./background.ts";
import { createPlatform, outboundOf } from "./deps.ts";

/** What the runtime seam (`functions/_runtime/serve.ts`) gives a function's factory. */
export interface Runtime {
  /** The validated environment (config.ts). */
  env: Env;
  /** Work after the response: `EdgeRuntime.waitUntil` on Supabase. */
  waitUntil: WaitUntil;
}

export type Handler = (req: Request) => Promise<Response>;

/**
 * What a function that sends is built from: its platform, the one outbound path (senders with
 * their required pacer, outbound/), and who may call it (function-auth.ts). Each main.ts adds
 * only what is its own.
 */
export function sendingFunction(env: Env, name: FunctionName) {
  const platform = createPlatform(env, name);
  return { platform, outbound: outboundOf(platform), auth: authOf(name, env) };
}
