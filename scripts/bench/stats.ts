/** Latency and throughput figures for the benchmarks. */

export interface RunStats {
  label: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

/**
 * Runs `total` calls of `one(i)` with `concurrency` in flight; each call's latency is recorded.
 * A call that throws or returns false counts as an error.
 */
export async function drive(
  label: string,
  total: number,
  concurrency: number,
  one: (i: number) => Promise<boolean>,
  onProgress?: (done: number) => void,
): Promise<RunStats> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t = performance.now();
      const ok = await one(i).catch(() => false);
      latencies.push(performance.now() - t);
      if (!ok) errors++;
      if (onProgress && latencies.length % Math.max(1, Math.floor(total / 10)) === 0) {
        onProgress(latencies.length);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    label,
    requests: total,
    seconds,
    perSecond: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(cols),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(cols.map((c) => String(r[c])))),
  ].join("\n");
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
