/**
 * `STACK_INSPECT=<function>[:port]` runs that one function under the V8 inspector on
 * 127.0.0.1 (port 9339 by default), for `deno run -A scripts/profile-function.ts` (or Chrome's
 * DevTools) to profile it under load. Nothing else listens on it; unset, nothing changes.
 */
export function inspectFlag(name: string, env: string | undefined): string[] {
  if (!env) return [];
  const [fn, port = "9339"] = env.split(":");
  if (fn !== name) return [];
  if (!/^\d{2,5}$/.test(port)) throw new Error(`STACK_INSPECT: ${port} is not a port`);
  return [`--inspect=127.0.0.1:${port}`];
}
