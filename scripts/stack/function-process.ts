import { readLines } from "./lines.ts";
import { freePort } from "./ports.ts";
import { inspectFlag } from "./inspect.ts";

export interface FunctionProcessOptions {
  name: string;
  /** The function's index.ts, absolute. */
  entry: string;
  /** The repository root: cwd of the child, so Deno finds deno.json and node_modules. */
  root: string;
  env: Record<string, string>;
  log: (line: string) => void;
  readyTimeoutMs?: number;
  /** Listen on this port (default: a free one) … */
  port?: number;
  /** … handed over in this variable (default EDGE_FUNCTION_PORT). */
  portEnv?: string;
  /** Prefix each output line with `[name] ` (default true; the sandbox prefixes its own). */
  prefixed?: boolean;
  /** What the stack's output says after an unexpected exit. */
  afterExit?: string;
}

export interface FunctionProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Where the function listens, starting it again first if it has exited. */
  origin(): Promise<string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * One edge function as its own `deno run` child on an internal port (EDGE_FUNCTION_PORT), its
 * output prefixed with `[name]`. A function that exits is started again by the next request
 * for it, so one crash does not take the stack down, and a broken one fails only its requests.
 */
export function createFunctionProcess(opts: FunctionProcessOptions): FunctionProcess {
  let child: Deno.ChildProcess | undefined;
  let running: Promise<string> | undefined;
  let stopping = false;

  async function start(): Promise<string> {
    const port = opts.port ?? freePort();
    const recent: string[] = [];
    const prefix = opts.prefixed === false ? "" : `[${opts.name}] `;
    const onLine = (line: string) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      opts.log(prefix + line);
    };
    const proc = new Deno.Command(`${opts.root}/node_modules/.bin/deno`, {
      args: [
        "run",
        "--allow-all",
        "--no-prompt",
        ...inspectFlag(opts.name, Deno.env.get("STACK_INSPECT")),
        opts.entry,
      ],
      cwd: opts.root,
      env: {
        ...opts.env,
        [opts.portEnv ?? "EDGE_FUNCTION_PORT"]: String(port),
        // Colour codes only where someone reads them: not in a log file or a test's output.
        ...(Deno.stdout.isTerminal() ? {} : { NO_COLOR: "1" }),
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = proc;
    const output = Promise.all([readLines(proc.stdout, onLine), readLines(proc.stderr, onLine)]);
    let exited = false;
    proc.status.then(async (status) => {
      exited = true;
      await output;
      if (child === proc) running = undefined;
      // SIGINT is Ctrl-C reaching the whole process group: the stack is stopping, not crashing.
      if (!stopping && status.signal !== "SIGINT") {
        opts.log(
          `[${opts.name}] exited (${status.signal ?? `code ${status.code}`}); ${
            opts.afterExit ?? "the next request starts it again"
          }`,
        );
      }
    });

    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    while (!(await accepts(port))) {
      if (exited || Date.now() > deadline) {
        if (!exited) proc.kill("SIGKILL");
        throw new Error(
          `function ${opts.name} did not start${exited ? "" : " in time"}:\n${recent.join("\n")}`,
        );
      }
      await sleep(50);
    }
    return `http://127.0.0.1:${port}`;
  }

  return {
    name: opts.name,
    get pid() {
      return child?.pid;
    },
    origin() {
      if (stopping) return Promise.reject(new Error("stack is stopping"));
      running ??= start().catch((err) => {
        running = undefined;
        throw err;
      });
      return running;
    },
    async stop() {
      stopping = true;
      const proc = child;
      if (!proc) return;
      try {
        proc.kill("SIGTERM");
      } catch {
        return; // already exited
      }
      const killed = await Promise.race([
        proc.status.then(() => true),
        sleep(3000).then(() => false),
      ]);
      if (!killed) {
        try {
          proc.kill("SIGKILL");
        } catch {
          // exited between the two signals
        }
        await proc.status;
      }
    },
  };
}
