/**
 * `npm start` stops cleanly when npm itself gets the signal: SIGTERM or SIGINT to npm's PID (what
 * a process manager or `kill` sends; Ctrl-C sends SIGINT to the whole group) leaves no process
 * of the stack running and no port held. npm runs the script under `sh -c`, which does not pass
 * signals on; the script is `exec deno run …`, so the signal reaches the stack.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";

async function isFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Four consecutive free ports (functions, database, console, sandbox), away from 54321–54324 and
 * below Linux's ephemeral range (32768–60999): there, any outgoing connection made while the
 * stack starts (the other tests' too) may take one as its local port between this check and the
 * stack's bind ("Address already in use").
 */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const frees = await Promise.all([0, 1, 2, 3].map((i) => isFree(base + i)));
    if (frees.every(Boolean)) return base;
  }
}

/** Every process under `pid`, from `ps`. */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" }).trim().split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function startNpm(base: number): Promise<ChildProcess> {
  const npm = spawn(
    "npm",
    ["start", "--", "--port-base", String(base), "--data-dir", "memory://"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a failed test can still clean up all of it
    },
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not get ready:\n${out}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes("Ctrl-C stops everything.")) {
        clearTimeout(timer);
        resolve();
      }
    };
    npm.stdout!.on("data", onData);
    npm.stderr!.on("data", (c: Buffer) => (out += c));
    npm.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
  return npm;
}

describe("npm start and signals", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} to npm's PID stops every process of the stack and frees every port`, async () => {
      const base = await freeBase();
      const npm = await startNpm(base);
      const pids = descendants(npm.pid!);
      expect(pids.length).toBeGreaterThanOrEqual(2); // deno start.ts and the function processes
      try {
        const exited = new Promise((resolve) => npm.once("exit", resolve));
        process.kill(npm.pid!, signal);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
        await new Promise((r) => setTimeout(r, 500));
        expect(pids.filter(alive)).toEqual([]);
        for (const port of [base, base + 1, base + 2, base + 3]) {
          expect(await isFree(port), `port ${port} is still held`).toBe(true);
        }
      } finally {
        try {
          process.kill(-npm.pid!, "SIGKILL");
        } catch { /* already gone */ }
        for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
      }
    }, 180_000);
  }
});
