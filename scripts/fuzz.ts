/**
 * `npm run fuzz -- --requests 100000 [--seed N] [--concurrency 8]`: the long fuzz run. Validly
 * signed hostile requests over every webhook, tool and internal endpoint (the same generator as
 * tests/security/fuzz.test.ts), on the PostgreSQL at DATABASE_URL (a fresh database, dropped
 * after) or on embedded PGlite. Prints counts by status and the control messages lost or
 * duplicated; exits 1 on any 5xx, loss or duplicate.
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { startStack } from "../tests/security/endpoints.ts";
import { buildTemplate, createTestDatabase } from "../tests/support/db.ts";
import { runFuzz } from "../tests/security/fuzz-run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "10000" },
    seed: { type: "string", default: "20261129" },
    concurrency: { type: "string", default: "8" },
  },
});
const requests = Number(values.requests);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
if (![requests, seed, concurrency].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("usage: npm run fuzz -- --requests <n> [--seed <n>] [--concurrency <n>]");
  Deno.exit(2);
}

const database = Deno.env.get("DATABASE_URL") ? "PostgreSQL (DATABASE_URL)" : "embedded PGlite";
console.log(`fuzz: ${requests} requests, seed ${seed}, concurrency ${concurrency}, on ${database}`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const started = performance.now();
// Outside vitest there is no global setup: migrate a template here, and drop it after.
const template = await buildTemplate(Deno.pid);
const db = await createTestDatabase({ template: template.template });
const stack = await startStack(db);
let report;
try {
  report = await runFuzz(stack, {
    requests,
    seed,
    concurrency,
    onProgress: (done, r) => {
      if (done % 10_000 === 0 || done === requests) {
        const s = ((performance.now() - started) / 1000).toFixed(0);
        console.log(
          `  ${done} requests, ${s} s, 5xx: ${r.serverErrors}, lost: ${r.lost}, duplicated: ${r.duplicated}`,
        );
      }
    },
  });
} finally {
  await stack.close();
  await db.close();
  await template.remove();
}

const seconds = (performance.now() - started) / 1000;
console.log(`done in ${seconds.toFixed(0)} s (${(report.requests / seconds).toFixed(0)} req/s)`);
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log("requests by status:");
for (const [status, n] of Object.entries(report.byStatus).sort()) console.log(`  ${status}: ${n}`);
console.log(`5xx: ${report.serverErrors}`);
console.log(
  `control messages: ${report.controls} (each delivered twice); lost: ${report.lost}; duplicated: ${report.duplicated}`,
);
for (const e of report.examples) console.log(`  example: ${e}`);
Deno.exit(report.serverErrors === 0 && report.lost === 0 && report.duplicated === 0 ? 0 : 1);
