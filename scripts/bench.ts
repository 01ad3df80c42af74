/**
 * `npm run bench [-- <name> ...] [--total N] [--concurrency C]`: the benchmarks, each run side by
 * side with its floor in the same process, on a throwaway local stack (free ports, in-memory
 * database unless BENCH_DATABASE_URL names a PostgreSQL database to use).
 *
 *   post-call   post-call notifications/s, p50/p99, DB round trips per notification
 */
import { parseArgs } from "node:util";
import { startStack } from "./stack/stack.ts";
import { freePorts } from "./stack/ports.ts";
import { benchPostCall } from "./bench/post-call.ts";
import { fmt, table } from "./bench/stats.ts";

const BENCHMARKS = ["post-call"] as const;
type Name = (typeof BENCHMARKS)[number];

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    total: { type: "string", default: "300" },
    concurrency: { type: "string", default: "8" },
  },
});
const unknown = positionals.filter((p) => !BENCHMARKS.includes(p as Name));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(", ")}. Available: ${BENCHMARKS.join(", ")}`);
  Deno.exit(2);
}
const selected = (positionals.length ? positionals : [...BENCHMARKS]) as Name[];
const total = Number(values.total);
const concurrency = Number(values.concurrency);
const log = (s: string) => console.log(s);

const machine = `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
log(`benchmarks: ${selected.join(", ")} — ${total} requests, ${concurrency} in flight — ${machine}`);
const dbUrl = Deno.env.get("BENCH_DATABASE_URL");
const stack = await startStack({
  ports: freePorts(),
  dataDir: "memory://",
  dbUrl,
  dotenv: false,
  quiet: true,
  only: ["health", "post-call-notify"],
  env: Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("SUPABASE_"))),
});
log(`database: ${dbUrl ? "PostgreSQL (BENCH_DATABASE_URL)" : "embedded PGlite (one transaction at a time)"}`);

let code = 0;
try {
  for (const name of selected) {
    if (name === "post-call") {
      log(`\n## post-call`);
      const r = await benchPostCall(stack, { total, concurrency, log });
      const floor = r.runs[0].perSecond;
      log(table(r.runs.map((s) => ({
        run: s.label,
        "req/s": fmt(s.perSecond),
        "vs floor": `${fmt(s.perSecond / floor, 2)}×`,
        "p50 ms": fmt(s.p50),
        "p99 ms": fmt(s.p99),
        errors: s.errors,
      }))));
      log(`DB round trips per notification: ${fmt(r.roundTripsPerNotification, 2)} (target ≤ 4; floor ${fmt(r.floorRoundTrips, 2)})`);
      if (r.runs.some((s) => s.errors > 0)) code = 1;
    }
  }
} finally {
  await stack.stop();
}
Deno.exit(code);
