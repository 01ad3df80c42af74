/**
 * Serves a function's handler. On Supabase the Edge Runtime owns the listening socket and
 * ignores these options. In the local stack each function is a process on an internal port
 * (EDGE_FUNCTION_PORT) that only the gateway may reach: it binds 127.0.0.1, never every
 * interface, so nobody on the network can skip the gateway's JWT check; and it prints nothing
 * on start, because that port is not for anyone to use (the stack prints the gateway's URL).
 * The one Deno-only module of _shared: tsconfig.json leaves it to `deno check`.
 */
export function serveFunction(handler: (req: Request) => Response | Promise<Response>) {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("EDGE_FUNCTION_PORT") ?? "8000"),
    onListen: () => {},
  }, handler);
}
