import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLogger } from "../log/logger.ts";
import { afterAccept, createAgentWorkerKick, replyAfterRecord } from "./kick.ts";

// A local HTTP server stands in for the functions gateway: it records the calls and answers
// with the status the test sets.
const calls: IncomingMessage[] = [];
let status = 200;
/** While set, the server holds its answers until it resolves (a worker still draining). */
let hold: Promise<void> | null = null;
const server = createServer((req, res) => {
  calls.push(req);
  const held = hold;
  req.resume().on("end", async () => {
    if (held) await held;
    res.writeHead(status).end("{}");
  });
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A kick of the local server's worker, with the secret key the tests look for. */
const workerKick = () =>
  createAgentWorkerKick({ functionsUrl: base, secretKey: "sb_secret_k", logger: memoryLogger() })!;

describe("agent-worker kick", () => {
  it("sends one call per event-loop turn with the secret key, however many messages ask", async () => {
    calls.length = 0;
    status = 200;
    const kick = workerKick();
    expect(await Promise.all([kick.kick(), kick.kick(), kick.kick()])).toEqual([true, true, true]);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("/functions/v1/agent-worker");
    expect(calls[0].headers.apikey).toBe("sb_secret_k");
    expect(await kick.kick()).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it("while a call is in flight, every later kick shares one follow-up call made after it", async () => {
    calls.length = 0;
    status = 200;
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const kick = workerKick();
    const first = kick.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
    // Messages accepted while the worker drains: no call of their own yet …
    const later: Promise<boolean>[] = [];
    for (let i = 0; i < 5; i++) {
      later.push(kick.kick());
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(calls).toHaveLength(1);
    hold = null;
    release();
    expect(await first).toBe(true);
    // … one call after the first answered, so the worker goes round for them.
    expect(await Promise.all(later)).toEqual([true, true, true, true, true]);
    expect(calls).toHaveLength(2);
  });

  it("says false when the worker refuses or cannot be reached, so the webhook replies itself", async () => {
    status = 503;
    const log = memoryLogger();
    const refused = createAgentWorkerKick({
      functionsUrl: base,
      secretKey: "sb_secret_k",
      logger: log,
    })!;
    expect(await refused.kick()).toBe(false);
    const unreachable = createAgentWorkerKick({
      functionsUrl: "http://127.0.0.1:1/functions/v1",
      secretKey: "k",
      logger: log,
    })!;
    expect(await unreachable.kick()).toBe(false);
    expect(log.lines.map((l) => l.event)).toEqual([
      "AGENT_WORKER_REFUSED",
      "AGENT_WORKER_UNREACHABLE",
    ]);
  });

  it("after accepting, only the request whose kick made a call waits for the worker's answer", async () => {
    calls.length = 0;
    status = 200;
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const kick = workerKick();
    let inboxRuns = 0;
    const follow = afterAccept(kick, () => Promise.resolve(inboxRuns++));
    const settled: boolean[] = [];
    const track = (p: Promise<void>) => {
      const i = settled.push(false) - 1;
      return p.then(() => (settled[i] = true));
    };
    // The first request's kick calls the worker, which drains (holds its answer) …
    const all = [track(follow())];
    await new Promise((r) => setTimeout(r, 50));
    // … while 40 more requests are accepted, in turns of their own.
    for (let i = 0; i < 40; i++) {
      all.push(track(follow()));
      await new Promise((r) => setTimeout(r, 1));
    }
    // Two wait: the first, and the one whose kick queued the call after it. The other 39 are
    // covered by that queued call and hold nothing while the worker drains.
    expect(settled.filter((s) => !s)).toHaveLength(2);
    hold = null;
    release();
    await Promise.all(all);
    expect(calls).toHaveLength(2);
    expect(inboxRuns).toBe(0);
  });

  it("when the worker cannot take them, the inbox worker runs once per failed call, not per request", async () => {
    calls.length = 0;
    status = 503;
    hold = null;
    const kick = workerKick();
    let inboxRuns = 0;
    const follow = afterAccept(kick, () => Promise.resolve(inboxRuns++));
    await Promise.all(Array.from({ length: 20 }, () => follow()));
    expect(calls).toHaveLength(1);
    expect(inboxRuns).toBe(1);
    // No worker to kick at all: each follow-up drains the inbox itself.
    const alone = afterAccept(null, () => Promise.resolve(inboxRuns++));
    await alone();
    expect(inboxRuns).toBe(2);
  });

  it("after recording, a message is answered by the worker, or once by the request whose kick failed", async () => {
    calls.length = 0;
    hold = null;
    const kick = workerKick();
    const replied: number[] = [];
    let owedRuns = 0;
    const follow = replyAfterRecord(
      kick,
      (n: number) => Promise.resolve(void replied.push(n)),
      () => Promise.resolve(owedRuns++),
    );
    // The worker takes them: nothing is answered here.
    status = 200;
    await Promise.all(Array.from({ length: 20 }, (_, i) => follow(i)));
    expect(calls).toHaveLength(1);
    expect({ replied, owedRuns }).toEqual({ replied: [], owedRuns: 0 });
    // The worker refuses: the request whose kick made the call answers its own message, then
    // every reply still owed (the other 19 among them), once. Before, each of the 20 requests
    // answered its own, each after waiting for the worker's answer.
    status = 503;
    await Promise.all(Array.from({ length: 20 }, (_, i) => follow(100 + i)));
    expect(calls).toHaveLength(2);
    expect({ replied, owedRuns }).toEqual({ replied: [100], owedRuns: 1 });
    // No worker to kick at all: each message is answered where it was recorded.
    const alone = replyAfterRecord(
      null,
      (n: number) => Promise.resolve(void replied.push(n)),
      () => Promise.resolve(owedRuns++),
    );
    await Promise.all([alone(7), alone(8)]);
    expect({ replied, owedRuns }).toEqual({ replied: [100, 7, 8], owedRuns: 1 });
  });

  it("is not there without a functions URL or a secret key", () => {
    expect(createAgentWorkerKick({ secretKey: "k", logger: memoryLogger() })).toBeNull();
    expect(createAgentWorkerKick({ functionsUrl: base, logger: memoryLogger() })).toBeNull();
  });
});
