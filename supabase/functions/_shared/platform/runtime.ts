import type { Env } from "../config.ts";
import type { WaitUntil } from "./background.ts";

/** What the runtime seam (`functions/_runtime/serve.ts`) gives a function's factory. */
export interface Runtime {
  /** The validated environment (config.ts). */
  env: Env;
  /** Work after the response: `EdgeRuntime.waitUntil` on Supabase. */
  waitUntil: WaitUntil;
}

export type Handler = (req: Request) => Promise<Response>;
