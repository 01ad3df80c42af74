/**
 * `npm run bench -- webhook`: signed WhatsApp webhooks — single text messages and batches of 10
 * statuses — side by side with two floors in the same run, each phase both direct to the
 * function's process and through the gateway:
 * - floor: check the signature and insert one row (tests/fixtures/functions/webhook-floor);
 * - batched floor: the same, one multi-row insert per event-loop turn (webhook-floor-batched).
 * The floors pay the same auth as wa-webhook (the X-Hub-Signature-256 HMAC). The load comes
 * from its own process (loadgen.ts). The database is ANALYZEd after seeding. AI replies are
 * measured as their own figure (replies/s, inbound→reply latency, none lost or doubled): each
 * text phase is followed by the drain of its own replies, so no phase runs behind the backlog of
 * another (the agent-worker answers a phase's messages while it runs, as in production). The
 * statuses the status phases accept are their own figure too: each status phase is followed by
 * the drain of its statuses (applied while it ran, applied in all, statuses/s).
 */
import postgres from "postgres";
import type { Stack } from "../stack/stack.ts";
import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { percentile, type RunStats } from "./stats.ts";
import { processUsage } from "./process-usage.ts";
import { runLoad } from "./loadgen.ts";
import { buildRequest, type PayloadKind, type PayloadSpec } from "./payloads.ts";
import { loadAverage } from "./machine.ts";
import { standInAutovacuum } from "./autovacuum.ts";
import { seedEarlierTraffic } from "./seed.ts";
import { scanCounter } from "./scans.ts";

export type WebhookRun = RunStats & {
  path: "direct" | "gateway";
  peakRssMiB: number | null;
  cpuMsPerRequest: number | null;
  /**
   * CPU of the stack's own process (the gateway, and whatever shares its process) per request:
   * on direct phases what it spends idle, on gateway phases what proxying costs.
   */
  stackCpuMsPerRequest: number | null;
  load: string;
};

export interface ReplyStats {
  /** One message at a time through the gateway on a drained system: inbound → reply row, ms. */
  idle: { messages: number; p50: number; p99: number; slowest: number };
  inbound: number;
  replied: number;
  doubled: number;
  unanswered: number;
  perSecond: number;
  p50: number;
  p99: number;
  drainSeconds: number;
  /** The wait stopped at --reply-drain with replies still owed (unanswered counts those). */
  capped: boolean;
  /**
   * CPU per reply written, over the phase and its drain: the agent-worker function's process
   * (derivation, the model call, the send) and the sandbox's (the scripted model and the
   * provider); null when a process was not found.
   */
  cpuMsPerReply: { agentWorker: number | null; sandbox: number | null };
}

/** The statuses one status phase accepted, applied by the status worker after it. */
export interface StatusDrain {
  label: string;
  path: "direct" | "gateway";
  /** Statuses the phase sent (its warm-up's too): 10 per request. */
  sent: number;
  accepted: number;
  /** Applied by the time the phase's load stopped. */
  appliedDuringPhase: number;
  applied: number;
  /** Applied per second, from the phase's first accepted status to its last applied one. */
  perSecond: number;
  /** Seconds after the phase until none was owed (or the wait gave up). */
  drainSeconds: number;
  capped: boolean;
  /** The agent-worker function's CPU per status applied, over the phase and its drain. */
  workerCpuMsPerStatus: number | null;
}

export interface WebhookBenchResult {
  runs: WebhookRun[];
  /**
   * Each status phase's statuses, drained after it and before the next phase: what the status
   * worker applies is its own figure, as the replies are. Empty when the drains were skipped
   * (`replyDrainSeconds` 0).
   */
  statuses: StatusDrain[];
  /**
   * The replies owed to each text phase's messages, drained after it and before the next phase
   * (direct, then gateway); empty when the drains were skipped (`replyDrainSeconds` 0).
   */
  replies: (ReplyStats & { path: "direct" | "gateway" })[];
  /** Whole-table reads of the growing tables during the phases, not the drains (PostgreSQL only). */
  scans?: string;
}

export interface PhaseOptions {
  concurrency: number;
  minSeconds: number;
  minRequests: number;
  /**
   * At most this many seconds waiting for the replies after each text phase, and for the
   * statuses after each status phase (default: until none is owed, or none was written for 30 s);
   * 0 skips both drains and their figures. The agent-worker then keeps writing the first phase's
   * replies and statuses while the later phases run, and their figures carry that work.
   */
  replyDrainSeconds?: number;
  log: (s: string) => void;
}

/**
 * Seeded outbound rows per status phase: 25,000 requests of 10, 2,500 requests/s for the default
 * 10 s (the fastest phase measured: 2,080/s).
 */
const STATUS_ROWS_PER_PHASE = 250_000;

/** Requests each phase sends, at 4 concurrent, before it is measured. */
const WARM_UP_REQUESTS = 40;

export async function benchWebhook(
  stack: Stack,
  pidOf: (name: string) => number | undefined,
  opts: PhaseOptions & {
    statusRuns?: number;
    postgres?: boolean;
    /** On PostgreSQL: people whose earlier traffic is in the tables first (scripts/bench/seed.ts). */
    seed?: number;
    /** Only the text phases, or only the status phases, beside the floors. */
    only?: "text" | "statuses";
  },
): Promise<WebhookBenchResult> {
  const statusRuns = Math.max(1, opts.statusRuns ?? 1);
  const run = `${Date.now()}`;
  const sql = postgres(stack.urls.db, {
    prepare: false,
    max: 1,
    onnotice: () => {},
    // The drains count the inboxes by when rows arrived, which reads them whole; in parallel, the
    // workers' reads were counted as the next phase's (183 whole reads of status_inbox in one
    // run, all the drains' own, found with auto_explain). In this one backend they are flushed
    // before each phase's count starts. A string: postgres.js leaves a parameter whose value is
    // falsy out of the startup message, so the number 0 never reached the server (until
    // 2026-12-01 this connection still planned the drains' counts in parallel).
    connection: { max_parallel_workers_per_gather: "0" },
  });
  // Outbound rows the status batches refer to (10 per request, reused round-robin), then
  // statistics, so the planner picks the provider-id index for status lookups.
  // Each status phase has its own rows (STATUS_ROWS_PER_PHASE, numbered from the first status
  // phase on), so no phase repeats another's statuses; a phase that outruns its share wraps
  // round onto rows already delivered, and its report says so (a repeat costs less than a new
  // status, so its figure would not be comparable).
  const seeded = STATUS_ROWS_PER_PHASE * 2 * statusRuns;
  await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body, provider, provider_message_id)
    select 'whatsapp', 'outbound', 'sent', '+250788000000', 'bench', 'whatsapp', 'wamid.out-' || ${run} || '-' || g
    from generate_series(1, ${seeded}) g`;
  if (opts.postgres) await seedEarlierTraffic(sql, opts.seed ?? 0, opts.log);
  await sql`analyze`;
  // Every phase, floors included, runs with the same table maintenance.
  // (On PostgreSQL only: PGlite runs one statement at a time, and has no autovacuum to stand in for.)
  const autovacuum = opts.postgres
    ? await standInAutovacuum(stack.urls.db, opts.log)
    : { stop: () => Promise.resolve() };
  try {
    return await phases(stack, pidOf, opts, sql, run, seeded, statusRuns, opts.only);
  } finally {
    await autovacuum.stop();
    await sql.end();
  }
}

async function phases(
  stack: Stack,
  pidOf: (name: string) => number | undefined,
  opts: PhaseOptions & { postgres?: boolean },
  sql: postgres.Sql,
  run: string,
  seeded: number,
  statusRuns: number,
  only?: "text" | "statuses",
): Promise<WebhookBenchResult> {
  const measure = phaseRunner(stack, pidOf, opts);
  const scans = opts.postgres ? scanCounter(sql) : null;
  // The status phases number their requests on their own, from 0, so each request's 10 statuses
  // are rows no earlier status phase used (until the seeded rows run out).
  const statusNumbers = { next: 0 };
  const phase = (fn: string, label: string, kind: PayloadKind, path: "direct" | "gateway") => {
    const run1 = () =>
      measure(fn, label, path, {
        kind,
        run,
        phoneNumberId: SANDBOX_CREDENTIALS.whatsappPhoneNumberId,
        appSecret: SANDBOX_CREDENTIALS.whatsappAppSecret,
        seeded,
      }, kind === "wa-statuses" ? statusNumbers : undefined);
    return scans ? scans.around(run1) : run1();
  };

  const runs: WebhookRun[] = [];
  for (const path of ["direct", "gateway"] as const) {
    runs.push(
      await phase("webhook-floor", "floor: verify signature + 1 insert", "wa-message", path),
    );
    runs.push(
      await phase(
        "webhook-floor-batched",
        "batched floor: verify + 1 multi-row insert per tick",
        "wa-message",
        path,
      ),
    );
  }
  // Each text phase starts on a drained system and is followed by the drain of its own replies:
  // the agent-worker answers a phase's messages while it runs (as it would in production), but
  // never the backlog of another phase, and the replies are measured as their own figure.
  const replies: WebhookBenchResult["replies"] = [];
  // A process not started yet (the agent-worker starts on its first kick) has spent nothing.
  const cpuOf = async (pid: number | undefined, notStarted: number | null = null) =>
    pid ? (await processUsage(pid))?.cpuMs ?? null : notStarted;
  for (const path of only === "statuses" ? [] : ["direct", "gateway"] as const) {
    const phaseStart = new Date();
    const [workerBefore, sandboxBefore] = [
      await cpuOf(pidOf("agent-worker"), 0),
      await cpuOf(stack.sandboxPid()),
    ];
    runs.push(await phase("wa-webhook", "wa-webhook: 1 text message", "wa-message", path));
    if (opts.replyDrainSeconds === 0) continue;
    const drained = await drainReplies(sql, run, phaseStart, opts.log, opts.replyDrainSeconds);
    const [workerAfter, sandboxAfter] = [
      await cpuOf(pidOf("agent-worker")),
      await cpuOf(stack.sandboxPid()),
    ];
    const perReply = (before: number | null, after: number | null) =>
      before === null || after === null || drained.replied === 0
        ? null
        : (after - before) / drained.replied;
    replies.push({
      path,
      ...drained,
      cpuMsPerReply: {
        agentWorker: perReply(workerBefore, workerAfter),
        sandbox: perReply(sandboxBefore, sandboxAfter),
      },
      // Only on a drained system: behind a backlog it would measure the backlog.
      idle: drained.capped ? { messages: 0, p50: NaN, p99: NaN, slowest: NaN } : await idleLatency(
        stack,
        sql,
        `${run}-idle-${path}`,
        path === "direct" ? 0 : 100,
        opts.log,
      ),
    });
  }
  const statuses: StatusDrain[] = [];
  for (let n = 1; n <= (only === "text" ? 0 : statusRuns); n++) {
    for (const path of ["direct", "gateway"] as const) {
      const label = `wa-webhook: batch of 10 statuses${statusRuns > 1 ? ` (run ${n})` : ""}`;
      const [{ since }] = await sql`select clock_timestamp() as since`;
      const workerBefore = await cpuOf(pidOf("agent-worker"), 0);
      const measured = await phase("wa-webhook", label, "wa-statuses", path);
      runs.push(measured);
      if (opts.replyDrainSeconds === 0) continue;
      const sent = (measured.requests + WARM_UP_REQUESTS) * 10;
      const [{ until }] = await sql`select clock_timestamp() as until`;
      const drained = await drainStatuses(sql, since, until, opts.log, opts.replyDrainSeconds);
      const workerAfter = await cpuOf(pidOf("agent-worker"));
      statuses.push({
        label,
        path,
        sent,
        ...drained,
        workerCpuMsPerStatus: workerBefore === null || workerAfter === null || !drained.applied
          ? null
          : (workerAfter - workerBefore) / drained.applied,
      });
    }
  }
  return { runs, replies, statuses, scans: scans?.report() };
}

/**
 * Measures phases of one stack: each a warm-up, then the load (from its own process) on one
 * function, direct to its process or through the gateway, with the function's and the stack
 * process's CPU per request and the load average. Request numbers never repeat across phases.
 */
export function phaseRunner(
  stack: Stack,
  pidOf: (name: string) => number | undefined,
  opts: PhaseOptions,
) {
  const own = { next: 1_000 };
  return async (
    fn: string,
    label: string,
    path: "direct" | "gateway",
    payload: PayloadSpec,
    /** Request numbers of this kind of phase, kept apart from the others' (advanced here). */
    numbering: { next: number } = own,
  ): Promise<WebhookRun> => {
    const first = numbering.next;
    const url = path === "direct"
      ? `${await stack.originOf(fn)!}/${fn}`
      : `${stack.urls.functions}/${fn}`;
    // Warm-up outside the figures: JIT, connections, caches.
    await runLoad({
      label,
      url,
      payload,
      concurrency: 4,
      minSeconds: 0,
      minRequests: WARM_UP_REQUESTS,
      offset: first,
    });
    const pid = pidOf(fn);
    const before = pid ? await processUsage(pid) : null;
    const stackBefore = await processUsage(Deno.pid);
    const load = await loadAverage();
    opts.log(`  ${label} (${path}) … load ${load}`);
    const stats = await runLoad({
      label,
      url,
      payload,
      concurrency: opts.concurrency,
      minSeconds: opts.minSeconds,
      minRequests: opts.minRequests,
      offset: first + 100,
    });
    numbering.next = stats.lastRequest + 100;
    const after = pid ? await processUsage(pid) : null;
    const stackAfter = await processUsage(Deno.pid);
    opts.log(
      `  ${label} (${path}): ${stats.perSecond.toFixed(1)}/s, p50 ${
        stats.p50.toFixed(1)
      } ms, ${stats.errors} errors`,
    );
    return {
      ...stats,
      path,
      load,
      peakRssMiB: after?.peakRssMiB ?? null,
      cpuMsPerRequest: before && after ? (after.cpuMs - before.cpuMs) / stats.requests : null,
      stackCpuMsPerRequest: stackBefore && stackAfter
        ? (stackAfter.cpuMs - stackBefore.cpuMs) / stats.requests
        : null,
    };
  };
}

/**
 * Polls `owed` every `pollMs` until it is 0, or has not fallen for 30 s, or `maxSeconds` have
 * passed (then `capped`), logging what is still owed; answers how long after the call it stopped.
 */
async function waitForDrain(
  what: string,
  log: (s: string) => void,
  maxSeconds: number,
  pollMs: number,
  owedNow: () => Promise<number>,
): Promise<{ drainSeconds: number; capped: boolean }> {
  const started = performance.now();
  let last = Infinity;
  let progressAt = started;
  let capped = false;
  for (;;) {
    const owed = await owedNow();
    if (owed < last) [last, progressAt] = [owed, performance.now()];
    if (owed === 0 || performance.now() - progressAt > 30_000) break;
    if (performance.now() - started > maxSeconds * 1000) {
      log(`  ${what} owed: ${owed}; stopped waiting after ${maxSeconds} s (--reply-drain)`);
      capped = true;
      break;
    }
    log(`  ${what} owed: ${owed}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return { drainSeconds: (performance.now() - started) / 1000, capped };
}

/**
 * Waits until the status worker has applied every status accepted since `since` (or applied none
 * for 30 s, or `maxSeconds` passed), then counts them: accepted, applied while the phase ran (by
 * `until`), applied in all, and how fast (first accepted to last applied). The next phase starts
 * on a drained inbox, so no phase's figures carry another's backlog.
 */
async function drainStatuses(
  sql: postgres.Sql,
  since: Date,
  until: Date,
  log: (s: string) => void,
  maxSeconds = Infinity,
): Promise<Omit<StatusDrain, "label" | "path" | "workerCpuMsPerStatus" | "sent">> {
  const { drainSeconds, capped } = await waitForDrain(
    "statuses",
    log,
    maxSeconds,
    2_000,
    async () => {
      const [{ owed }] = await sql`select count(*)::int as owed from public.status_inbox
      where processed_at is null and attempts < 5 and received_at >= ${since}`;
      return owed;
    },
  );
  const [r] = await sql`select count(*)::int as accepted,
      count(processed_at)::int as applied,
      (count(*) filter (where processed_at <= ${until}))::int as during,
      extract(epoch from max(processed_at) - min(received_at))::float8 as span
    from public.status_inbox where received_at >= ${since}`;
  return {
    accepted: r.accepted,
    appliedDuringPhase: r.during,
    applied: r.applied,
    perSecond: r.span > 0 ? r.applied / r.span : NaN,
    drainSeconds,
    capped,
  };
}

/**
 * Waits until every bench message recorded since `since` has had its reply written (or no reply
 * has been written for 30 s), then measures the replies: how many, how fast, how long after
 * their inbound message. The status phases run after this, so replies never share their figures.
 */
async function drainReplies(
  sql: postgres.Sql,
  run: string,
  since: Date,
  log: (s: string) => void,
  maxSeconds = Infinity,
): Promise<Omit<ReplyStats, "idle" | "cpuMsPerReply">> {
  const like = `wamid.bench-${run}-%`;
  const { drainSeconds, capped } = await waitForDrain(
    "replies",
    log,
    maxSeconds,
    5_000,
    async () => {
      // Owed: accepted into the inbox but not derived yet, or derived with the reply not written.
      const [{ owed }] = await sql`select
      (select count(*)::int from public.inbound_inbox
        where provider_message_id like ${like} and processed_at is null and attempts < 5)
      + (select count(*)::int from public.message_delivery_log
        where direction = 'inbound' and provider_message_id like ${like}
          and (reply_state is null or reply_state in ('pending', 'in_progress'))) as owed`;
      return owed;
    },
  );
  // From the moment the webhook accepted the message (its inbox row) to the reply's row; an
  // accepted message never derived counts as unanswered. Statistics first: the tables grew by
  // thousands of rows since the last ANALYZE, and stale ones make this join scan per row.
  await sql`analyze public.inbound_inbox, public.message_delivery_log`;
  const rows = await sql`
    select x.received_at as inbound_at, count(o.id)::int as replies, min(o.created_at) as reply_at
    from public.inbound_inbox x
    left join public.message_delivery_log i
      on i.channel = x.channel and i.provider_message_id = x.provider_message_id
        and i.direction = 'inbound'
    left join public.message_delivery_log o
      on o.session_id = i.session_id and o.direction = 'outbound' and o.purpose = 'ai_reply'
    where x.provider_message_id like ${like} and x.received_at >= ${since}
    group by x.id, x.received_at`;
  const latencies = rows.filter((r) => r.reply_at).map((r) =>
    r.reply_at.getTime() - r.inbound_at.getTime()
  ).sort((a, b) => a - b);
  const replyTimes = rows.filter((r) => r.reply_at).map((r) => r.reply_at.getTime());
  const lastReply = replyTimes.reduce((a, b) => Math.max(a, b), -Infinity);
  const firstInbound = rows.reduce((a, r) => Math.min(a, r.inbound_at.getTime()), Infinity);
  const span = replyTimes.length > 1 ? (lastReply - firstInbound) / 1000 : NaN;
  return {
    inbound: rows.length,
    replied: rows.filter((r) => r.replies > 0).length,
    doubled: rows.filter((r) => r.replies > 1).length,
    unanswered: rows.filter((r) => r.replies === 0).length,
    perSecond: replyTimes.length / span,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    drainSeconds,
    capped,
  };
}

/**
 * The latency a person sees on a quiet system: 20 messages sent one after another through the
 * gateway, each waiting for its reply row, from the webhook's acceptance (the inbox row) to the
 * reply's row (written just before the provider is called).
 */
async function idleLatency(
  stack: Stack,
  sql: postgres.Sql,
  run: string,
  /** Added to the request numbers: each measurement writes as other people (its own sessions). */
  people: number,
  log: (s: string) => void,
): Promise<ReplyStats["idle"]> {
  const spec = {
    kind: "wa-message" as const,
    run,
    phoneNumberId: SANDBOX_CREDENTIALS.whatsappPhoneNumberId,
    appSecret: SANDBOX_CREDENTIALS.whatsappAppSecret,
  };
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { headers, body } = buildRequest(spec, 900_000 + people + i);
    const res = await fetch(`${stack.urls.functions}/wa-webhook`, {
      method: "POST",
      headers,
      body,
    });
    await res.body?.cancel();
    const id = `wamid.bench-${run}-${900_000 + people + i}`;
    const started = performance.now();
    while (performance.now() - started < 30_000) {
      const [row] = await sql`
        select extract(epoch from (o.created_at - x.received_at)) * 1000 as ms
        from public.inbound_inbox x
        join public.message_delivery_log i
          on i.channel = x.channel and i.provider_message_id = x.provider_message_id
        join public.message_delivery_log o
          on o.session_id = i.session_id and o.direction = 'outbound' and o.purpose = 'ai_reply'
        where x.channel = 'whatsapp' and x.provider_message_id = ${id}`;
      if (row) {
        latencies.push(Number(row.ms));
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  latencies.sort((a, b) => a - b);
  const idle = {
    messages: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    slowest: latencies.at(-1) ?? NaN,
  };
  log(`  idle inbound→reply: p50 ${idle.p50.toFixed(0)} ms over ${idle.messages} messages`);
  return idle;
}
