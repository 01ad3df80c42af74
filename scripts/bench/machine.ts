/** The machine's load while a phase runs: benchmarks print it beside every figure. */
export async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "");
  return text ? text.split(" ").slice(0, 3).join(" ") : "n/a";
}
