/**
 * `npm run bench [-- <name> ...] [--total N] [--seconds S] [--concurrency C] [--messages N] [--rate R]
 *   [--senders K] [--sessions N] [--write]`
 *
 * A measured phase lasts at least --seconds (default 10) AND --total requests (default 3,000);
 * lower both only for smoke runs. The load generator runs in its own process.
 *
 * Each benchmark boots its own throwaway local stack (free ports, in-memory database unless
 * BENCH_DATABASE_URL names a PostgreSQL database to use — its data is left behind, so give it
 * an empty one) and runs side by side with its floor or baseline in the same run.
 *
 *   post-call   post-call notifications/s, p50/p99, DB round trips per notification
 *   webhook     signed WhatsApp webhooks (messages, status batches) vs verify+insert floors (one
 *               insert per request, and one multi-row insert per tick), direct and through the
 *               gateway; AI replies as their own figure
 *   gateway     a trivial function (tests/fixtures/functions/echo) direct and through the gateway
 *               (verify_jwt, a user JWT): what proxying costs, in req/s and the gateway's CPU
 *   dispatch    --messages queued messages over --senders senders (5), provider limited to --rate
 *               msg/s per sender (80) with 429
 *   cleanup     close 1,000,000 expired sessions: one transaction vs batches; longest lock
 *   stats       GET /messages/stats over a --rows (1,000,000) row delivery log
 *
 * --write puts the results in docs/BENCHMARKS.md with the machine and the date.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ROOT, type Stack, startStack } from "./stack/stack.ts";
import { freePort, freePorts } from "./stack/ports.ts";
import { runtimeOnly } from "./stack/function-env.ts";
import { SANDBOX_CREDENTIALS } from "./stack/sandbox-env.ts";
import { createSandbox } from "./sandbox/sandbox.ts";
import { BENCH_RATE, benchPostCall } from "./bench/post-call.ts";
import { benchWebhook, phaseRunner } from "./bench/webhook.ts";
import { benchDispatch } from "./bench/dispatch.ts";
import { benchCleanup } from "./bench/cleanup.ts";
import { benchMessageStats } from "./bench/message-stats.ts";
import { rateLimitedProvider } from "./bench/rate-limited-provider.ts";
import { functionPid, processUsage } from "./bench/process-usage.ts";
import { fmt, table } from "./bench/stats.ts";
import { loadAverage } from "./bench/machine.ts";

const BENCHMARKS = ["post-call", "webhook", "gateway", "dispatch", "cleanup", "stats"] as const;
type Name = (typeof BENCHMARKS)[number];

// Times are rough, from the runs in docs/BENCHMARKS.md on 2 cores (embedded PGlite), boot included.
const USAGE = `npm run bench [-- <name> ...] [options]

Benchmarks (all of them when none is named), each on its own throwaway stack:
  post-call   post-call notifications/s, p50/p99, DB round trips       about 1 min
  webhook     signed WhatsApp webhooks vs a verify+insert floor         about 1 min
  gateway     a trivial function direct vs through the gateway (CPU/req)  about 1 min
  dispatch    --messages (10,000) queued, --senders (5) at --rate (80/s)   about 1 min
  cleanup     close --sessions (1,000,000) expired sessions, twice      about 5 min
              (--sessions 100000: about 30 s)
  stats       GET /messages/stats over a --rows (1,000,000) row log      about 2 min

Options:
  --total N         post-call and webhook: at least N requests per phase (3000)
  --seconds S       post-call and webhook: each phase runs at least S seconds (10)
  --concurrency C   requests in flight (32)
  --messages N      dispatch: messages to drain (10000)
  --senders N       dispatch: senders the messages are spread over (5)
  --rate R          dispatch: each sender's allowed messages/s (80)
  --dispatchers N   dispatch: concurrent dispatch calls (4)
  --reply-drain S   webhook: wait at most S seconds for the AI replies after each text
                    phase, and for the statuses after each status phase (default: until
                    all are written); 0 skips both drains and their figures
  --status-runs N   webhook: run the status-batch phases N times (1), to show they are stable
  --only K          webhook: run the floors and only the text (K = text) or only the status
                    (K = statuses) phases, to measure or profile one path on its own
  --seed N          post-call and webhook on PostgreSQL: people whose earlier traffic (a
                    profile, a closed conversation, 3 messages) is in the tables before the
                    load (10000; 0: empty tables, as runs before 2026-11-30 20:00 UTC)
  --sessions N      cleanup: expired sessions to close (1000000)
  --rows N          stats: delivery log rows (1000000)
  --write           put the results in docs/BENCHMARKS.md
  -h, --help        this text

BENCH_DATABASE_URL=postgres://… measures on that (empty) PostgreSQL database instead.`;

function parse() {
  try {
    return parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        total: { type: "string", default: "3000" },
        seconds: { type: "string", default: "10" },
        concurrency: { type: "string", default: "32" },
        rate: { type: "string", default: "80" },
        senders: { type: "string", default: "5" },
        messages: { type: "string", default: "10000" },
        sessions: { type: "string", default: "1000000" },
        rows: { type: "string", default: "1000000" },
        dispatchers: { type: "string", default: "4" },
        seed: { type: "string", default: "10000" },
        "reply-drain": { type: "string" },
        "status-runs": { type: "string", default: "1" },
        only: { type: "string" },
        write: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n\n${USAGE}`);
    Deno.exit(2);
  }
}
const { values, positionals } = parse();
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const unknown = positionals.filter((p) => !BENCHMARKS.includes(p as Name));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(", ")}.\n\n${USAGE}`);
  Deno.exit(2);
}
if (values.only !== undefined && values.only !== "text" && values.only !== "statuses") {
  console.error(`--only takes text or statuses, not ${values.only}.\n\n${USAGE}`);
  Deno.exit(2);
}
const selected = (positionals.length ? positionals : [...BENCHMARKS]) as Name[];
const total = Number(values.total);
const concurrency = Number(values.concurrency);
const minSeconds = Number(values.seconds);
const rate = Number(values.rate);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) {
  console.error(
    `--seed takes a whole number of people (0 or more), not ${values.seed}.\n\n${USAGE}`,
  );
  Deno.exit(2);
}
const senders = Number(values.senders);
const log = (s: string) => console.log(s);
/** Lines each benchmark reports, kept per benchmark so --write can replace just those. */
const reports = new Map<Name, string[]>();
let current: Name | undefined;
const emit = (s: string) => {
  log(s);
  if (current) reports.get(current)!.push(s);
};
const dbUrl = Deno.env.get("BENCH_DATABASE_URL");
const cpuModel =
  (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.+)/)?.[1] ??
    "unknown CPU";
const machine =
  `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores (${cpuModel}), ` +
  `${fmt(Deno.systemMemoryInfo().total / 2 ** 30, 0)} GiB, Deno ${Deno.version.deno}`;
const database = dbUrl
  ? "PostgreSQL (BENCH_DATABASE_URL)"
  : "embedded PGlite (one transaction at a time)";
log(`benchmarks: ${selected.join(", ")} — ${machine} — database: ${database}`);

async function withStack<T>(
  only: string[],
  env: Record<string, string>,
  fn: (stack: Stack, pidOf: (name: string) => number | undefined) => Promise<T>,
): Promise<T> {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    dbUrl,
    // The functions are called with the new secret key only, as a project created today is.
    legacyKeys: false,
    dotenv: false,
    quiet: true,
    only,
    functionsDirs: [join(ROOT, "supabase/functions"), join(ROOT, "tests/fixtures/functions")],
    env: { ...runtimeOnly(Deno.env.toObject()), LOG_LEVEL: "error", ...env },
    // The floors are public like the functions they stand beside: they pay the same check (the
    // webhooks' signature, post-call-notify's secret key).
    publicFunctions: ["webhook-floor", "webhook-floor-batched", "post-call-floor"],
  });
  // Status callbacks from the sandbox would hit functions this run does not start, and the
  // stack's own housekeeping would clean sessions while the cleanup benchmark measures it.
  await stack.sandbox.settings({ status_callbacks: false });
  stack.housekeeping.stop();
  const pids = new Map<string, number>();
  for (const f of stack.functions) {
    const pid = stack.pidOf(f.name);
    if (pid) pids.set(f.name, await functionPid(pid));
  }
  try {
    return await fn(stack, (name) => pids.get(name));
  } finally {
    await stack.stop();
  }
}

const memCpu = (rss: number | null, cpu: number | null) =>
  `${rss === null ? "n/a" : `${fmt(rss, 0)} MiB`} / ${cpu === null ? "n/a" : `${fmt(cpu, 1)} ms`}`;

let failed = false;
for (const name of selected) {
  current = name;
  reports.set(name, []);
  log(`\n## ${name}\n`);
  if (name === "post-call") {
    const rate = String(BENCH_RATE);
    await withStack(["post-call-notify", "post-call-floor"], {
      WHATSAPP_RATE_PER_SECOND: rate,
      SMS_RATE_PER_SECOND: rate,
    }, async (stack, pidOf) => {
      const pid = pidOf("post-call-notify");
      const floorPid = pidOf("post-call-floor");
      const before = pid ? await processUsage(pid) : null;
      const floorBefore = floorPid ? await processUsage(floorPid) : null;
      const r = await benchPostCall(stack, {
        total,
        minSeconds,
        concurrency,
        log,
        postgres: Boolean(dbUrl),
        seed,
      });
      const after = pid ? await processUsage(pid) : null;
      const floorAfter = floorPid ? await processUsage(floorPid) : null;
      const floorOf = (path: string) =>
        r.runs.find((s) => s.kind === "floor" && s.path === path)!.perSecond;
      const floor = floorOf("direct");
      const inProcessFloor = floorOf("in-process");
      /** Requests the given kind's function process served (its direct and gateway phases). */
      const servedBy = (kind: string) =>
        r.runs.filter((s) => s.kind === kind && s.path !== "in-process")
          .reduce((a, s) => a + s.requests, 0);
      emit(table(r.runs.map((s) => ({
        run: s.label,
        "req/s": fmt(s.perSecond),
        "vs floor (direct)": `${fmt(s.perSecond / floor, 2)}×`,
        "vs in-process floor": `${fmt(s.perSecond / inProcessFloor, 2)}×`,
        "p50 ms": fmt(s.p50),
        "p99 ms": fmt(s.p99),
        errors: s.errors,
      }))));
      emit(
        `\nDB round trips per notification: **${
          fmt(r.roundTripsPerNotification, 2)
        }** (target at most 2; floor ${fmt(r.floorRoundTrips, 2)}).`,
      );
      if (r.dbCpuMsPerNotification.some((ms) => ms !== null)) {
        emit(
          `Database CPU per notification (the PostgreSQL backends, from /proc): ${
            r.runs.map((s, i) => {
              const ms = r.dbCpuMsPerNotification[i];
              return `${s.label.split(" (")[0]} ${ms === null ? "n/a" : `${fmt(ms, 2)} ms`}`;
            }).join("; ")
          }.`,
        );
      }
      if (r.scans !== undefined) {
        emit(
          `Whole-table reads of profiles, conversations, the log and the inboxes during the phases: ${r.scans}.`,
        );
      }
      emit(
        `Function process (post-call-notify): peak memory / CPU per request (direct and gateway runs): ${
          memCpu(
            after?.peakRssMiB ?? null,
            before && after ? (after.cpuMs - before.cpuMs) / servedBy("post-call") : null,
          )
        }; the floor function's: ${
          memCpu(
            floorAfter?.peakRssMiB ?? null,
            floorBefore && floorAfter
              ? (floorAfter.cpuMs - floorBefore.cpuMs) / servedBy("floor")
              : null,
          )
        }; ` +
          `load average ${await loadAverage()}.`,
      );
      if (r.runs.some((s) => s.errors > 0)) failed = true;
    });
  }
  if (name === "webhook") {
    await withStack(
      ["wa-webhook", "agent-worker", "webhook-floor", "webhook-floor-batched"],
      {},
      async (stack, pidOf) => {
        const r = await benchWebhook(stack, pidOf, {
          concurrency,
          minSeconds,
          minRequests: total,
          replyDrainSeconds: values["reply-drain"] === undefined
            ? undefined
            : Number(values["reply-drain"]),
          statusRuns: Number(values["status-runs"]),
          only: values.only as "text" | "statuses" | undefined,
          postgres: Boolean(dbUrl),
          seed,
          log,
        });
        const floor = r.runs.find((s) => s.path === "direct")!.perSecond;
        emit(table(r.runs.map((s) => ({
          run: s.label,
          path: s.path,
          requests: s.requests,
          "req/s": fmt(s.perSecond),
          "vs floor (direct)": `${fmt(s.perSecond / floor, 2)}×`,
          "p50 ms": fmt(s.p50),
          "p99 ms": fmt(s.p99),
          "peak MiB / CPU per req": memCpu(s.peakRssMiB, s.cpuMsPerRequest),
          "gateway process CPU per req": s.stackCpuMsPerRequest === null
            ? "n/a"
            : `${fmt(s.stackCpuMsPerRequest, 2)} ms`,
          errors: s.errors,
          "load avg": s.load,
        }))));
        if (r.replies.length === 0 && values.only !== "statuses") {
          emit("\nAI replies: not measured (--reply-drain 0).");
        }
        for (const p of r.replies) {
          emit(
            `\nAI replies to the ${p.path} text phase (sandbox's scripted model, written by the agent-worker function, paced at the sender's ${
              Deno.env.get("WHATSAPP_RATE_PER_SECOND") ?? "80"
            } msg/s), drained before the next phase: ${p.inbound} messages, ` +
              `**${p.replied} replied**, ${p.unanswered} ${
                p.capped ? "still owed when the wait stopped (--reply-drain)" : "unanswered"
              }, ${p.doubled} doubled; ${fmt(p.perSecond)} replies/s ` +
              `(first message to last reply), inbound→reply p50 ${fmt(p.p50 / 1000, 2)} s / p99 ${
                fmt(p.p99 / 1000, 2)
              } s; ` +
              `${p.capped ? "stopped waiting" : "drained"} ${
                fmt(p.drainSeconds)
              } s after the phase. CPU per reply (the phase and its drain): agent-worker ${
                p.cpuMsPerReply.agentWorker === null
                  ? "n/a"
                  : `${fmt(p.cpuMsPerReply.agentWorker, 2)} ms`
              }, sandbox (model and provider) ${
                p.cpuMsPerReply.sandbox === null ? "n/a" : `${fmt(p.cpuMsPerReply.sandbox, 2)} ms`
              }.`,
          );
          emit(
            `Inbound→reply on a drained system (${p.idle.messages} messages one after another through the gateway, from the webhook's acceptance to the reply's row): ` +
              `p50 **${fmt(p.idle.p50, 0)} ms**, p99 ${
                fmt(p.idle.p99, 0)
              } ms (target p50 ≤ 1000 ms with an instant model).`,
          );
        }
        if (r.statuses.length) {
          emit(
            "\nStatuses applied by the status worker (the agent-worker function), drained after each status phase:",
          );
          for (const p of r.statuses) {
            emit(
              `- ${p.label}, ${p.path}: ${p.sent} sent, ${p.accepted} accepted${
                p.accepted < p.sent
                  ? ` (**${
                    p.sent - p.accepted
                  } repeated statuses accepted before: the phase outran its seeded rows, and its figure is not comparable**)`
                  : ""
              }, ${p.appliedDuringPhase} applied while the phase ran, ` +
                `**${p.applied} applied** (${p.capped ? "stopped waiting" : "drained"} ${
                  fmt(p.drainSeconds)
                } s after it), **${fmt(p.perSecond)} statuses/s** applied ` +
                `(first accepted to last applied); agent-worker CPU per status applied ${
                  p.workerCpuMsPerStatus === null ? "n/a" : `${fmt(p.workerCpuMsPerStatus, 3)} ms`
                }.`,
            );
          }
        }
        if (r.scans !== undefined) {
          emit(
            `Whole-table reads of profiles, conversations, the log and the inboxes during the phases (the drains' own counting queries left out): ${r.scans}.`,
          );
        }
        emit(
          `Concurrency ${concurrency}; each phase ≥ ${minSeconds} s and ≥ ${total} requests from a separate load-generator process.`,
        );
        if (
          r.runs.some((s) => s.errors > 0) ||
          r.replies.some((p) => (!p.capped && p.unanswered > 0) || p.doubled > 0) ||
          r.statuses.some((p) => !p.capped && p.applied < p.accepted)
        ) failed = true;
      },
    );
  }
  if (name === "gateway") {
    await withStack(["echo"], {}, async (stack, pidOf) => {
      const measure = phaseRunner(stack, pidOf, {
        concurrency,
        minSeconds,
        minRequests: total,
        log,
      });
      // echo keeps verify_jwt (config.toml does not name it): the gateway checks a user JWT.
      const payload = {
        kind: "echo" as const,
        run: `${Date.now()}`,
        phoneNumberId: "",
        bearer: await stack.keys.signUserToken!(
          { sub: crypto.randomUUID() },
          `${stack.urls.api}/auth/v1`,
        ),
      };
      const runs = [
        await measure("echo", "echo (answers what it got)", "direct", payload),
        await measure("echo", "echo, verify_jwt with a user JWT", "gateway", payload),
      ];
      emit(table(runs.map((s) => ({
        run: s.label,
        path: s.path,
        requests: s.requests,
        "req/s": fmt(s.perSecond),
        "p50 ms": fmt(s.p50),
        "p99 ms": fmt(s.p99),
        "function CPU per req": s.cpuMsPerRequest === null
          ? "n/a"
          : `${fmt(s.cpuMsPerRequest, 2)} ms`,
        "gateway process CPU per req": s.stackCpuMsPerRequest === null
          ? "n/a"
          : `${fmt(s.stackCpuMsPerRequest, 2)} ms`,
        errors: s.errors,
        "load avg": s.load,
      }))));
      emit(
        `\nThrough the gateway: ${fmt(runs[1].perSecond / runs[0].perSecond, 2)}× direct. ` +
          `Concurrency ${concurrency}; each phase ≥ ${minSeconds} s and ≥ ${total} requests from a separate load-generator process.`,
      );
      if (runs.some((s) => s.errors > 0)) failed = true;
    });
  }
  if (name === "dispatch") {
    const sandbox = createSandbox();
    const limited = rateLimitedProvider(
      sandbox.handler,
      rate,
      SANDBOX_CREDENTIALS.whatsappPhoneNumberId,
    );
    const port = freePort();
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, limited.handler);
    try {
      await withStack(["dispatch"], {
        WHATSAPP_API_BASE_URL: `http://127.0.0.1:${port}/whatsapp/v21.0`,
        WHATSAPP_ACCESS_TOKEN: SANDBOX_CREDENTIALS.whatsappAccessToken,
        WHATSAPP_PHONE_NUMBER_ID: SANDBOX_CREDENTIALS.whatsappPhoneNumberId,
        WHATSAPP_RATE_PER_SECOND: String(rate),
        DISPATCH_BATCH_SIZE: "1000",
        // The rate-limited stand-in is not the sandbox, so the stack counts WhatsApp as real and
        // refuses the public local JWT secret: this run gets a throwaway one of its own.
        SUPABASE_JWT_SECRET: `${crypto.randomUUID()}${crypto.randomUUID()}`,
      }, async (stack) => {
        const r = await benchDispatch(stack, limited.counts, {
          messages: Number(values.messages),
          senders,
          dispatchers: Number(values.dispatchers),
          budgetMs: 10_000,
          log,
        });
        emit(table(r.perSender.map((s) => ({
          sender: `whatsapp:${s.sender}`,
          accepted: s.accepted,
          "msg/s": fmt(s.perSecond),
          "target": `≥ ${fmt(rate * 0.975, 0)}`,
          "429s": s.throttled,
        }))));
        const accepted = r.perSender.reduce((a, s) => a + s.accepted, 0);
        emit(
          `\n${r.messages} messages in ${fmt(r.seconds)} s: aggregate **${
            fmt(r.aggregatePerSecond)
          } msg/s** ` +
            `(ceiling ${senders} × ${rate} = ${
              senders * rate
            }), 429s received: **${r.throttled}** (target 0), sent twice: **${
              accepted - r.messages
            }**, ` +
            `left queued: ${r.leftQueued}.`,
        );
        if (accepted !== r.messages) failed = true;
        emit(
          `Dispatch function: ${r.invocations} calls (${values.dispatchers} dispatchers, 10 s budget each), ` +
            `peak memory / CPU per call ${
              memCpu(r.peakRssMiB, r.cpuMsPerInvocation)
            }, longest call ${fmt(r.maxInvocationMs / 1000)} s; ` +
            `CPU per message: function ${fmt(r.cpuMsPerMessage ?? NaN, 2)} ms, database backends ${
              fmt(r.dbCpuMsPerMessage ?? NaN, 2)
            } ms. ` +
            `Load average after: ${await loadAverage()}.`,
        );
        if (r.leftQueued > 0 || r.perSender.some((s) => s.accepted === 0)) failed = true;
      });
    } finally {
      await server.shutdown();
    }
  }
  if (name === "cleanup") {
    await withStack(["health"], {}, async (stack) => {
      const r = await benchCleanup(stack, {
        sessions: Number(values.sessions),
        batchSize: 5000,
        log,
      });
      emit(table([
        {
          run: "one transaction (baseline)",
          sessions: r.single.closed,
          "total s": fmt(r.single.seconds),
          "longest lock ms": fmt(r.single.longestLockMs, 0),
        },
        {
          run: `batches of 5,000 (${r.batched.batches} transactions)`,
          sessions: r.batched.closed,
          "total s": fmt(r.batched.seconds),
          "longest lock ms": fmt(r.batched.longestLockMs, 0),
        },
      ]));
      emit(
        `\nLongest lock held: ${fmt(r.batched.longestLockMs, 0)} ms batched vs ${
          fmt(r.single.longestLockMs, 0)
        } ms in one transaction ` +
          `(${
            fmt(r.single.longestLockMs / r.batched.longestLockMs, 0)
          }× shorter). Runs in the database: no function process involved.`,
      );
    });
  }
  if (name === "stats") {
    await withStack(["messages"], {}, async (stack) => {
      const r = await benchMessageStats(stack, { rows: Number(values.rows), log });
      emit(table([...r.sql, r.http].map((x) => ({
        window: x.window,
        "rows in window": x.rows,
        "median ms": fmt(x.medianMs),
        "p90 ms": fmt(x.p90Ms),
      }))));
      const target = 200;
      const worst = Math.max(...r.sql.map((x) => x.p90Ms));
      emit(
        `\n${
          Number(values.rows).toLocaleString("en")
        } rows over 90 days, ${7} runs per window after a warm-up. ` +
          `Target < ${target} ms: ${
            r.sql.filter((x) => x.p90Ms < target).length
          }/${r.sql.length} SQL windows ` +
          `(worst p90 ${fmt(worst)} ms = ${fmt(worst / target, 2)}× the target); ` +
          `load average after: ${await loadAverage()}. Folding the whole log into the rollup ` +
          `(public.refresh_message_stats, as the scheduled job does) took ${fmt(r.foldSeconds)} s.`,
      );
      emit(
        "\nWhat the rollup's triggers (its row marks) cost the hot paths (1,000 one-row statements, each its own transaction):\n",
      );
      emit(table(r.hot.map((x) => ({
        statement: x.statement,
        "ms with triggers": fmt(x.withMs, 3),
        "ms without": fmt(x.withoutMs, 3),
        "extra ms": fmt(x.withMs - x.withoutMs, 3),
      }))));
    });
  }
}

if (values.write) {
  const date = new Date().toISOString().slice(0, 10);
  const tag = dbUrl ? "postgresql" : "pglite";
  const file = join(ROOT, "docs/BENCHMARKS.md");
  let doc = await Deno.readTextFile(file).catch(() =>
    [
      "# Benchmarks",
      "",
      "Every figure comes from one run in which the benchmark and its floor or baseline ran side by " +
      "side; ratios compare them. Supabase allows an edge function 256 MB of memory and 2 s of CPU " +
      "per request. `npm run bench` measures on the embedded database (PGlite, one transaction at a " +
      "time); set `BENCH_DATABASE_URL` to an empty PostgreSQL database to measure there. " +
      "`--write` replaces the sections of the benchmarks it ran.",
      "",
    ].join("\n")
  );
  for (const [name, lines] of reports) {
    const block = [
      `<!-- bench:${tag}:${name} -->`,
      `## ${name} — ${dbUrl ? "PostgreSQL" : "embedded PGlite"}`,
      "",
      `${date}, ${machine}. Reproduce: \`${
        dbUrl ? "BENCH_DATABASE_URL=postgres://…/<empty database> " : ""
      }` +
      `npm run bench -- ${name}${
        name === "dispatch"
          ? ` --messages ${values.messages} --senders ${senders} --rate ${rate}`
          : ""
      }` +
      `${name === "cleanup" ? ` --sessions ${values.sessions}` : ""}` +
      `${name === "stats" ? ` --rows ${values.rows}` : ""}\``,
      "",
      ...lines,
      `<!-- /bench:${tag}:${name} -->`,
    ].join("\n");
    const marker = new RegExp(
      `<!-- bench:${tag}:${name} -->[\\s\\S]*?<!-- /bench:${tag}:${name} -->`,
    );
    doc = marker.test(doc) ? doc.replace(marker, () => block) : `${doc.trimEnd()}\n\n${block}\n`;
  }
  await Deno.writeTextFile(file, doc);
  log(`\nwrote docs/BENCHMARKS.md (${[...reports.keys()].join(", ")} on ${tag})`);
}
Deno.exit(failed ? 1 : 0);
