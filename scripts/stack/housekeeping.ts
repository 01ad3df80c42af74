import { Cron } from "croner";

export interface ScheduledJob {
  name: string;
  schedule: string;
  command: string;
}

export interface JobRun {
  job: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface Housekeeping {
  jobs: { name: string; schedule: string; nextRun: Date | null }[];
  /** Runs one job now, as its schedule would. */
  run(name: string): Promise<JobRun>;
  stop(): void;
}

/**
 * Runs each `public.scheduled_jobs` row on its cron schedule, for databases without pg_cron (the
 * embedded one never has it). Schedules are 5-field cron (lists, ranges, steps) read in UTC, as
 * pg_cron reads them; a row this cannot parse is reported and skipped, never guessed at.
 * A run never overlaps the previous run of the same job.
 */
export function scheduleJobs(
  rows: ScheduledJob[],
  execute: (command: string) => PromiseLike<unknown>,
  report: (line: string) => void,
): Housekeeping {
  const crons = new Map<string, Cron>();
  const runJob = async (job: ScheduledJob): Promise<JobRun> => {
    const started = performance.now();
    try {
      await execute(job.command);
      const ms = Math.round(performance.now() - started);
      report(`[cron] ${job.name} ran in ${ms} ms`);
      return { job: job.name, ok: true, ms };
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const error = err instanceof Error ? err.message : String(err);
      report(`[cron] ${job.name} failed after ${ms} ms: ${error}`);
      return { job: job.name, ok: false, ms, error };
    }
  };

  for (const job of rows) {
    try {
      crons.set(
        job.name,
        new Cron(job.schedule, { mode: "5-part", timezone: "UTC", protect: true }, () => {
          void runJob(job);
        }),
      );
    } catch (err) {
      report(
        `[cron] ${job.name}: schedule "${job.schedule}" is not 5-field cron, skipped (${
          err instanceof Error ? err.message : err
        })`,
      );
    }
  }

  return {
    jobs: rows.filter((j) => crons.has(j.name)).map((j) => ({
      name: j.name,
      schedule: j.schedule,
      nextRun: crons.get(j.name)!.nextRun(),
    })),
    run(name) {
      const job = rows.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`no scheduled job ${name}`));
      return runJob(job);
    },
    stop() {
      for (const cron of crons.values()) cron.stop();
    },
  };
}

/** The subset of postgres.js this needs, so tests and the stack pass their own client. */
interface Queryable {
  unsafe(query: string): PromiseLike<unknown>;
}

/**
 * Housekeeping for the database at hand: with pg_cron the database runs the jobs itself (the
 * migration scheduled them); without it, the stack runs the rows of public.scheduled_jobs.
 */
export async function startHousekeeping(
  sql: Queryable,
  report: (line: string) => void,
): Promise<Housekeeping & { mode: "pg_cron" | "local" | "none" }> {
  const [state] = await sql.unsafe(
    `select exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') as cron,
            pg_catalog.to_regclass('public.scheduled_jobs') is not null as has_jobs`,
  ) as { cron: boolean; has_jobs: boolean }[];
  if (state.cron || !state.has_jobs) {
    const idle = scheduleJobs([], () => Promise.resolve(), report);
    return { ...idle, mode: state.cron ? "pg_cron" : "none" };
  }
  const rows = await sql.unsafe(
    "select name, schedule, command from public.scheduled_jobs order by name",
  ) as ScheduledJob[];
  return { ...scheduleJobs(rows, (command) => sql.unsafe(command), report), mode: "local" };
}

/**
 * Without pg_cron + pg_net the database cannot call the dispatch function itself
 * (public.schedule_dispatch), so the stack does: POST /functions/v1/dispatch every minute with
 * the secret key in `apikey` (as the pg_cron job does), never overlapping the previous call.
 */
export function scheduleDispatch(
  functionsUrl: string,
  secretKey: string,
  report: (line: string) => void,
): { stop(): void } {
  const cron = new Cron(
    "* * * * *",
    { mode: "5-part", timezone: "UTC", protect: true },
    async () => {
      const started = performance.now();
      try {
        const res = await fetch(`${functionsUrl}/dispatch`, {
          method: "POST",
          headers: { apikey: secretKey, "content-type": "application/json" },
          body: "{}",
          signal: AbortSignal.timeout(90_000),
        });
        const body = await res.json().catch(() => null);
        const d = body?.deliveries;
        const ms = Math.round(performance.now() - started);
        report(
          res.ok
            ? `[cron] dispatch ran in ${ms} ms: ${d?.sent ?? 0} sent, ${
              d?.retry_scheduled ?? 0
            } retry scheduled, ${d?.failed ?? 0} failed`
            : `[cron] dispatch answered ${res.status} after ${ms} ms`,
        );
      } catch (err) {
        report(`[cron] dispatch failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  );
  return { stop: () => cron.stop() };
}

/**
 * The WhatsApp template sync where pg_cron + pg_net cannot call it (public.scheduled_jobs
 * 'whatsapp-template-sync'): once at start, then every 6 hours, the stack calls
 * `POST /functions/v1/messages/templates/sync` with its secret key.
 */
export function scheduleTemplateSync(
  functionsUrl: string,
  secretKey: string,
  report: (line: string) => void,
): { stop(): void } {
  const run = async () => {
    try {
      const res = await fetch(`${functionsUrl}/messages/templates/sync`, {
        method: "POST",
        headers: { apikey: secretKey, "content-type": "application/json" },
        body: "{}",
        signal: AbortSignal.timeout(60_000),
      });
      const body = await res.json().catch(() => null);
      report(
        res.ok
          ? `[cron] WhatsApp templates synced: ${body?.synced ?? 0} stored, ${
            body?.removed ?? 0
          } removed`
          : `[cron] template sync answered ${res.status}: ${body?.error?.code ?? ""}`,
      );
    } catch (err) {
      report(`[cron] template sync failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const cron = new Cron("17 */6 * * *", { mode: "5-part", timezone: "UTC", protect: true }, run);
  const first = setTimeout(run, 2_000);
  return {
    stop: () => {
      clearTimeout(first);
      cron.stop();
    },
  };
}
