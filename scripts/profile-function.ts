/**
 * `deno run -A scripts/profile-function.ts [seconds] [port] [out.cpuprofile]`: samples the CPU of
 * a function the local stack runs under the inspector (`STACK_INSPECT=<function>[:port]` when the
 * stack or a benchmark starts) for `seconds` (8), then prints where its time went: self time per
 * function, and time including callees. The raw profile is written to `out.cpuprofile`
 * (/tmp/function.cpuprofile) for Chrome's DevTools. Start it while the load runs, e.g.
 *
 *   STACK_INSPECT=wa-webhook npm run bench -- webhook --only statuses &
 *   deno run -A scripts/profile-function.ts 8
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const seconds = Number(Deno.args[0] ?? 8);
const port = Deno.args[1] ?? "9339";
const out = Deno.args[2] ?? "/tmp/function.cpuprofile";
if (!(seconds > 0)) {
  console.error("usage: profile-function.ts [seconds] [port] [out.cpuprofile]");
  Deno.exit(2);
}

const targets = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json()).catch(
  () => null,
);
if (!Array.isArray(targets) || !targets[0]?.webSocketDebuggerUrl) {
  console.error(
    `Nothing to profile on 127.0.0.1:${port}: start the stack with STACK_INSPECT=<function>[:port].`,
  );
  Deno.exit(1);
}
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});
let next = 0;
const waiting = new Map<number, (result: Record<string, unknown>) => void>();
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  waiting.get(m.id)?.(m.result ?? {});
  waiting.delete(m.id);
};
const send = (method: string, params: Record<string, unknown> = {}) =>
  new Promise<Record<string, unknown>>((resolve) => {
    const id = ++next;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
await send("Profiler.start");
console.log(`sampling for ${seconds} s …`);
await new Promise((r) => setTimeout(r, seconds * 1000));
const profile = (await send("Profiler.stop")).profile as Profile;
ws.close();
await Deno.writeTextFile(out, JSON.stringify(profile));

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map<number, number>();
for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
const name = (f: CallFrame, line: boolean) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}${
    line && f.url ? `:${f.lineNumber + 1}` : ""
  }`;
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const [id, count] of hits) {
  const k = name(nodes.get(id)!.callFrame, true);
  self.set(k, (self.get(k) ?? 0) + count);
  const seen = new Set<string>();
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const t = name(nodes.get(n)!.callFrame, false);
    if (seen.has(t)) continue;
    seen.add(t);
    total.set(t, (total.get(t) ?? 0) + count);
  }
}
const all = profile.samples.length;
const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) =>
    `${(100 * c / all).toFixed(1).padStart(5)} %  ${k}`
  ).join("\n");
console.log(`${all} samples (every 0.2 ms); written to ${out}\n\nself time:\n${top(self, 30)}`);
console.log(`\nincluding callees:\n${top(total, 30)}`);
