/**
 * `npm run bench -- post-call`: post-call notifications with instant providers (the sandbox, its
 * own process), side by side with a floor in the same run: what any design must do — the same
 * secret-key check, one insert into the delivery log and the two provider calls in parallel.
 *
 * The floor runs the way post-call-notify does, as its own function process
 * (tests/fixtures/functions/post-call-floor) driven by the same separate load generator with the
 * same payload, direct and through the gateway; each is measured just before post-call-notify on
 * the same path. The acceptance ratio is post-call-notify against the floor direct (as the
 * webhook's). The floor and the handler called in-process by this process (no HTTP at all) are
 * reported too. Database round trips per notification are counted by postgres.js's `debug` hook.
 */
import postgres from "postgres";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";
import { authenticate } from "../../supabase/functions/_shared/http/auth.ts";
import { createPostCallNotifyHandler } from "../../supabase/functions/_shared/post-call-notify/handler.ts";
import { createLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import type { Stack } from "../stack/stack.ts";
import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { drive, fmt, type RunStats } from "./stats.ts";
import { runLoad } from "./loadgen.ts";
import { loadAverage } from "./machine.ts";
import { standInAutovacuum } from "./autovacuum.ts";
import { seedEarlierTraffic } from "./seed.ts";
import { scanCounter } from "./scans.ts";
import { dbCpuAround } from "./db-cpu.ts";

/** Pacing buckets far above what the benchmark sends, so they count their round trip but never wait. */
export const BENCH_RATE = 100_000;

/** One phase: the floor or post-call-notify, called in this process or over HTTP. */
export type PostCallRun = RunStats & {
  kind: "floor" | "post-call";
  /** in-process: called by this process; direct: its function process; gateway: through it. */
  path: "in-process" | "direct" | "gateway";
};

export interface PostCallBenchResult {
  /**
   * In order: the floor and the handler in-process, then per path (direct, gateway) the floor
   * function and post-call-notify. The ratios are taken against the floor function, direct.
   */
  runs: PostCallRun[];
  roundTripsPerNotification: number;
  floorRoundTrips: number;
  /**
   * The database backends' CPU per notification, ms, for each of `runs` (null where it can't be
   * read: PGlite, or a server on another machine).
   */
  dbCpuMsPerNotification: (number | null)[];
  /** Whole-table reads of the growing tables during the phases (PostgreSQL only). */
  scans?: string;
}

export async function benchPostCall(
  stack: Stack,
  opts: {
    total: number;
    minSeconds: number;
    concurrency: number;
    log: (s: string) => void;
    /**
     * On PostgreSQL: the tables hold `seed` people's earlier traffic (scripts/bench/seed.ts), are
     * analysed after the warm-up, and autovacuum is stood in for.
     */
    postgres?: boolean;
    seed?: number;
  },
): Promise<PostCallBenchResult> {
  let queries = 0;
  const sql = postgres(stack.urls.db, {
    prepare: false,
    max: 4,
    onnotice: () => {},
    debug: () => void queries++,
  });
  const c = SANDBOX_CREDENTIALS;
  // The senders as production builds them (outboundOf), on the sandbox, with buckets above the
  // load so pacing is on but never makes it wait.
  const senders = createSenderDirectory(loadConfig({
    SUPABASE_DB_URL: stack.urls.db,
    WHATSAPP_API_BASE_URL: `${stack.urls.sandbox}/whatsapp/v21.0`,
    WHATSAPP_ACCESS_TOKEN: c.whatsappAccessToken,
    WHATSAPP_PHONE_NUMBER_ID: c.whatsappPhoneNumberId,
    MTN_SMS_API_BASE_URL: `${stack.urls.sandbox}/mtn`,
    MTN_SMS_API_KEY: c.mtnApiKey,
    MTN_SMS_API_SECRET: c.mtnApiSecret,
    MTN_SMS_SENDER_ID: "OMNI",
    WHATSAPP_RATE_PER_SECOND: String(BENCH_RATE),
    SMS_RATE_PER_SECOND: String(BENCH_RATE),
  }));
  const auth = authOf(
    "post-call-notify",
    loadConfig({
      SUPABASE_DB_URL: stack.urls.db,
      SUPABASE_SECRET_KEYS: stack.keys.secretKeys,
      LEGACY_API_KEYS: "reject",
    }),
  );
  const handler = createPostCallNotifyHandler({
    sql,
    logger: createLogger({ level: "error" }),
    senders,
    pacer: createPacer(sql),
    auth,
    defaultCountry: "RW",
    config: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 0,
      summaryPollMs: 50,
      sendTimeoutMs: 10_000,
    },
  });

  const run = `${Date.now()}`;
  const phone = (i: number) => `+25078${String(1_000_000 + (i % 8_000_000)).padStart(7, "0")}`;
  const body = (tag: string, i: number) =>
    JSON.stringify({
      call_id: `bench-${tag}-${run}-${i}`,
      phone_number: phone(i),
      summary: "We agreed on a new monthly price of 250k. Delivery moved to Friday morning.",
    });
  const headers = {
    "content-type": "application/json",
    apikey: stack.keys.secret,
  };
  const okOutcome = async (res: Response) => res.ok && (await res.json()).outcome === "sent";

  // The floor: the same secret-key check, one insert + both provider calls, no session, no
  // claim, no outcome.
  const floor = async (i: number) => {
    await authenticate(new Request("http://bench/floor", { method: "POST", headers }), auth);
    await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body)
      values ('sms', 'outbound', 'queued', ${phone(i)}, 'floor')`;
    const row = (channel: string) => ({
      id: crypto.randomUUID(),
      channel,
      recipient: phone(i),
      body: "floor",
      message_type: "text",
      metadata: null,
      sender_key: null,
    });
    const [a, b] = await Promise.all([
      senders.resolve("whatsapp")!.send(row("whatsapp")),
      senders.resolve("sms")!.send(row("sms")),
    ]);
    return a.ok && b.ok;
  };

  if (opts.postgres) await seedEarlierTraffic(sql, opts.seed ?? 0, opts.log);

  // Warm-up: JIT, connections, token cache.
  for (let i = 0; i < 10; i++) {
    await handler(
      new Request("http://bench/post-call-notify", {
        method: "POST",
        headers,
        body: body("warm", i),
      }),
    );
    await floor(i);
  }
  // And the two function processes, direct, with the payload the load generator sends.
  for (const name of ["post-call-floor", "post-call-notify"]) {
    const url = `${await stack.originOf(name)!}/${name}`;
    for (let i = 0; i < 40; i += 4) {
      await Promise.all([0, 1, 2, 3].map(async (k) => {
        const res = await fetch(url, {
          method: "POST",
          headers,
          body: body(`warm-${name}`, i + k),
        });
        if (!(await okOutcome(res))) throw new Error(`${name} warm-up: ${res.status}`);
      }));
    }
  }

  // As production's autovacuum would: statistics that know the tables have rows (a never-analysed
  // log plans the WhatsApp window's probe as a scan of every WhatsApp row), kept up as they grow.
  // (On PostgreSQL only: PGlite runs one statement at a time, and has no autovacuum.)
  if (opts.postgres) await sql`analyze`;
  const autovacuum = opts.postgres
    ? await standInAutovacuum(stack.urls.db, opts.log)
    : { stop: () => Promise.resolve() };
  const scans = opts.postgres ? scanCounter(sql) : null;
  try {
    return scans ? await scans.around(measure) : await measure();
  } finally {
    await autovacuum.stop();
    await sql.end();
  }

  async function measure(): Promise<PostCallBenchResult> {
    const progress = (label: string) => (done: number) =>
      opts.log(`  ${label}: ${done}/${opts.total}`);
    const dbCpu: (number | null)[] = [];
    const withDbCpu = async (run: () => Promise<RunStats>) => {
      const { result, cpuMs } = await dbCpuAround(sql, run);
      dbCpu.push(cpuMs === null ? null : cpuMs / result.requests);
      return result;
    };
    queries = 0;
    const floorRun = await withDbCpu(() =>
      drive(
        "floor (same secret-key check, 1 insert + 2 provider calls), in-process",
        opts.total,
        opts.concurrency,
        floor,
        progress("floor"),
      )
    );
    const floorRoundTrips = queries / opts.total;

    queries = 0;
    const inProcess = await withDbCpu(() =>
      drive(
        "post-call-notify, in-process handler",
        opts.total,
        opts.concurrency,
        async (i) =>
          okOutcome(
            await handler(
              new Request("http://bench/post-call-notify", {
                method: "POST",
                headers,
                body: body("inproc", i),
              }),
            ),
          ),
        progress("in-process"),
      )
    );
    const roundTripsPerNotification = queries / opts.total;

    const remote = async (label: string, url: string, tag: string) => {
      opts.log(`  ${label} … load ${await loadAverage()}`);
      return withDbCpu(() =>
        runLoad({
          label,
          url,
          payload: {
            kind: "post-call",
            run: `${tag}-${run}`,
            phoneNumberId: c.whatsappPhoneNumberId,
            apikey: stack.keys.secret,
          },
          concurrency: opts.concurrency,
          minSeconds: opts.minSeconds,
          minRequests: opts.total,
        })
      );
    };
    const floorOrigin = await stack.originOf("post-call-floor")!;
    const origin = await stack.originOf("post-call-notify")!;
    const floorDirect = await remote(
      "floor function (same secret-key check, 1 insert + 2 provider calls), direct (separate load generator)",
      `${floorOrigin}/post-call-floor`,
      "floor-direct",
    );
    const direct = await remote(
      "post-call-notify, direct to the function process (separate load generator)",
      `${origin}/post-call-notify`,
      "direct",
    );
    const floorGateway = await remote(
      "floor function, through the gateway (separate load generator)",
      `${stack.urls.functions}/post-call-floor`,
      "floor-gw",
    );
    const gateway = await remote(
      "post-call-notify, through the gateway (separate load generator)",
      `${stack.urls.functions}/post-call-notify`,
      "gw",
    );

    opts.log(
      `  round trips per notification: ${fmt(roundTripsPerNotification, 2)} (floor ${
        fmt(floorRoundTrips, 2)
      })`,
    );
    const as = (kind: PostCallRun["kind"], path: PostCallRun["path"], r: RunStats) => ({
      ...r,
      kind,
      path,
    });
    return {
      runs: [
        as("floor", "in-process", floorRun),
        as("post-call", "in-process", inProcess),
        as("floor", "direct", floorDirect),
        as("post-call", "direct", direct),
        as("floor", "gateway", floorGateway),
        as("post-call", "gateway", gateway),
      ],
      roundTripsPerNotification,
      floorRoundTrips,
      dbCpuMsPerNotification: dbCpu,
      scans: scans?.report(),
    };
  }
}
