/**
 * The load generator, run as its own process (`runLoad` starts it) so it never shares a thread
 * with the gateway or the function it measures. Sends requests with `concurrency` in flight
 * until the phase has lasted `minSeconds` AND sent `minRequests`, then prints its RunStats as
 * JSON on stdout. A request counts as an error unless it answers 2xx.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildRequest, type PayloadSpec } from "./payloads.ts";
import { percentile, type RunStats } from "./stats.ts";

export interface LoadSpec {
  label: string;
  url: string;
  payload: PayloadSpec;
  concurrency: number;
  minSeconds: number;
  minRequests: number;
  /** Request numbers start here (warm-ups and earlier phases use others). */
  offset?: number;
}

async function generate(
  spec: LoadSpec,
): Promise<RunStats & { firstRequest: number; lastRequest: number }> {
  const latencies: number[] = [];
  const offset = spec.offset ?? 0;
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const enough = () =>
    next >= spec.minRequests && performance.now() - started >= spec.minSeconds * 1000;
  const worker = async () => {
    while (!enough()) {
      const { headers, body } = buildRequest(spec.payload, offset + next++);
      const t = performance.now();
      try {
        const res = await fetch(spec.url, { method: "POST", headers, body });
        await res.body?.cancel();
        if (!res.ok) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    label: spec.label,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    firstRequest: offset,
    lastRequest: offset + latencies.length - 1,
  };
}

/** Starts the load generator in a separate Deno process and returns what it measured. */
export async function runLoad(
  spec: LoadSpec,
): Promise<RunStats & { firstRequest: number; lastRequest: number }> {
  const self = join(fileURLToPath(new URL(".", import.meta.url)), "loadgen.ts");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-prompt", self, JSON.stringify(spec)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`load generator failed for ${spec.label}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

if (import.meta.main) {
  console.log(JSON.stringify(await generate(JSON.parse(Deno.args[0]))));
}
