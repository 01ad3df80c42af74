/** Peak memory and CPU time of a process, from /proc (Linux). */
export interface ProcessUsage {
  /** Peak resident set size, MiB (VmHWM). */
  peakRssMiB: number;
  /** User + system CPU time so far, ms. */
  cpuMs: number;
}

const TICKS_PER_SECOND = 100;

export async function processUsage(pid: number): Promise<ProcessUsage | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const hwm = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? NaN);
    // Fields after the command name (which may contain spaces): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssMiB: hwm / 1024, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** The deno process serving a function: the child of the `deno run` the stack started, or itself. */
export async function functionPid(stackPid: number): Promise<number> {
  try {
    const children = (await Deno.readTextFile(`/proc/${stackPid}/task/${stackPid}/children`))
      .trim();
    return children ? Number(children.split(/\s+/)[0]) : stackPid;
  } catch {
    return stackPid;
  }
}
