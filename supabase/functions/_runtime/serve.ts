import { loadConfig } from "../_shared/config.ts";
import { backgroundTracker, type WaitUntil } from "../_shared/platform/background.ts";
import type { Handler, Runtime } from "../_shared/platform/runtime.ts";

/**
 * The one Deno-only seam of the functions (tsconfig.json leaves it to `deno check`): reads and
 * validates the environment once per isolate, finds `EdgeRuntime.waitUntil`, builds the function
 * from them, and serves it. Each `functions/<name>/index.ts` is `serve(<its factory>)`.
 */
export function serve(build: (runtime: Runtime) => Handler) {
  return listen(build({ env: loadConfig(Deno.env.toObject()), waitUntil: edgeWaitUntil() }));
}

/**
 * Serves a handler. On Supabase the Edge Runtime owns the listening socket and ignores these
 * options. In the local stack each function is a process on an internal port
 * (EDGE_FUNCTION_PORT) that only the gateway may reach: it binds 127.0.0.1, never every
 * interface, so nobody on the network can skip the gateway's JWT check; and it prints nothing
 * on start, because that port is not for anyone to use (the stack prints the gateway's URL).
 */
export function listen(handler: Handler) {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("EDGE_FUNCTION_PORT") ?? "8000"),
    onListen: () => {},
  }, handler);
}

/** Supabase's `EdgeRuntime.waitUntil`; elsewhere (the local stack) a tracker that just runs the work. */
function edgeWaitUntil(): WaitUntil {
  // deno-lint-ignore no-explicit-any
  const edge = (globalThis as any).EdgeRuntime;
  return edge?.waitUntil?.bind(edge) ?? backgroundTracker().waitUntil;
}
