/**
 * The fuzz loop shared by the in-suite fuzz test and `npm run fuzz`: seeded, bounded, validly
 * signed requests over every endpoint (`caseArbitrary`), answered by the real handlers on a real
 * database, counted by status. Interleaved control messages (unfuzzed, each delivered twice, as
 * providers redeliver) check that nothing is lost or recorded twice under the noise.
 */
import fc from "fast-check";
import { type Case, caseArbitrary, type Stack } from "./endpoints.ts";

export interface FuzzOptions {
  requests: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Every n-th request is a control pair. */
  controlEvery?: number;
  onProgress?: (done: number, report: FuzzReport) => void;
}

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  controls: number;
  /** Control messages with no row (inbound) or no send (tool call). */
  lost: number;
  /** Control messages recorded or sent more than once. */
  duplicated: number;
  /** Up to 5 requests that got a 5xx, for the report. */
  examples: string[];
}

interface Control {
  kind: "inbound" | "send";
  /** The provider message ids (inbound) or the recipient (send) it must leave exactly once. */
  keys: string[];
}

const CHUNK = 500;

export async function runFuzz(stack: Stack, opts: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = {
    requests: 0,
    byStatus: {},
    serverErrors: 0,
    controls: 0,
    lost: 0,
    duplicated: 0,
    examples: [],
  };
  const concurrency = opts.concurrency ?? 8;
  const controlEvery = opts.controlEvery ?? 25;
  for (let chunk = 0; report.requests < opts.requests; chunk++) {
    const n = Math.min(CHUNK, opts.requests - report.requests);
    const cases = fc.sample(caseArbitrary(stack), { seed: opts.seed + chunk, numRuns: n });
    const controls: Control[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        if ((report.requests + i) % controlEvery === 0) {
          controls.push(await sendControl(stack, report, i));
        }
        await count(stack, report, cases[i]);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    report.requests += n;
    for (const e of stack.unexpected()) {
      if (report.examples.length < 10) report.examples.push(`logged: ${e.slice(0, 300)}`);
    }
    await checkControls(stack, report, controls);
    stack.wa.reset();
    stack.mtn.reset();
    opts.onProgress?.(report.requests, report);
  }
  return report;
}

async function count(stack: Stack, report: FuzzReport, c: Case): Promise<number> {
  let status: number;
  try {
    status = (await stack.send(c)).status;
  } catch {
    status = 599; // the handler threw instead of answering: as bad as a 5xx
  }
  report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
  if (status >= 500) {
    report.serverErrors++;
    if (report.examples.length < 5) {
      report.examples.push(`${status} ${c.endpoint} ${JSON.stringify(c.body).slice(0, 400)}`);
    }
  }
  return status;
}

const CONTROL_TEMPLATES = ["mtn:inbound", "twilio:inbound", "wa:batch", "tool:sms-call"] as const;

/** One unfuzzed message, delivered twice (a provider's redelivery, a retried tool call). */
async function sendControl(stack: Stack, report: FuzzReport, i: number): Promise<Control> {
  const kind = CONTROL_TEMPLATES[i % CONTROL_TEMPLATES.length];
  const c = kind === "tool:sms-call" ? toolCall(stack) : stack.build(kind);
  report.controls++;
  for (let k = 0; k < 2; k++) await count(stack, report, c);
  // deno-lint-ignore no-explicit-any
  const body = c.body as any;
  switch (kind) {
    case "mtn:inbound":
      return { kind: "inbound", keys: [body.id] };
    case "twilio:inbound":
      return { kind: "inbound", keys: [body.MessageSid] };
    case "wa:batch":
      return {
        kind: "inbound",
        keys: body.entry[0].changes[0].value.messages.map((m: { id: string }) => m.id),
      };
    default:
      return { kind: "send", keys: [JSON.parse(body.function.arguments).phone_number] };
  }
}

let controlPhones = 0;

function toolCall(stack: Stack): Case {
  const c = stack.build("tool:sms");
  // A number no fuzzed case uses (those are +25078…), so its sends are the control's alone.
  const phone = `+25072${String(++controlPhones % 10_000_000).padStart(7, "0")}`;
  const args = {
    ...(c.body as { arguments: Record<string, unknown> }).arguments,
    phone_number: phone,
  };
  return {
    endpoint: "messaging-tools",
    body: {
      id: `call_${crypto.randomUUID()}`,
      type: "function",
      function: { name: "messaging_send_sms", arguments: JSON.stringify(args) },
    },
  };
}

async function checkControls(stack: Stack, report: FuzzReport, controls: Control[]) {
  const inbound = controls.filter((c) => c.kind === "inbound").flatMap((c) => c.keys);
  const sends = controls.filter((c) => c.kind === "send").flatMap((c) => c.keys);
  const rows = await stack.db.sql<{ key: string; n: number }[]>`
    select provider_message_id as key, count(*)::int as n from public.message_delivery_log
    where direction = 'inbound' and provider_message_id = any(${inbound}) group by 1`;
  const outbound = await stack.db.sql<{ key: string; n: number }[]>`
    select recipient as key, count(*)::int as n from public.message_delivery_log
    where direction = 'outbound' and recipient = any(${sends}) group by 1`;
  const providerSends = new Map<string, number>();
  for (const r of stack.mtn.sendRequests()) {
    const to = `+${(r.json as { receiverAddress?: string[] }).receiverAddress?.[0] ?? ""}`;
    providerSends.set(to, (providerSends.get(to) ?? 0) + 1);
  }
  const counted = new Map([...rows, ...outbound].map((r) => [r.key, r.n]));
  for (const key of inbound) tally(report, key, counted.get(key) ?? 0, 1);
  for (const key of sends) tally(report, key, counted.get(key) ?? 0, providerSends.get(key) ?? 0);
}

/** A control must have exactly one row and, for a send, exactly one provider request. */
function tally(report: FuzzReport, key: string, rows: number, sends: number) {
  if (rows === 1 && sends === 1) return;
  if (rows === 0 || sends === 0) report.lost++;
  else report.duplicated++;
  if (report.examples.length < 10) {
    report.examples.push(`control ${key}: ${rows} row(s), ${sends} provider send(s)`);
  }
}
