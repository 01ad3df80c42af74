/**
 * `npm run bench -- webhook`: signed WhatsApp webhooks through the gateway — single messages
 * and batches of 10 statuses — side by side with a floor in the same run: a bare Deno function
 * that checks the signature and does one insert (tests/fixtures/functions/webhook-floor).
 */
import { createHmac } from "node:crypto";
import postgres from "postgres";
import type { Stack } from "../stack/stack.ts";
import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { drive, type RunStats } from "./stats.ts";
import { functionPid, processUsage } from "./process-usage.ts";

export interface WebhookBenchResult {
  runs: (RunStats & { peakRssMiB: number | null; cpuMsPerRequest: number | null })[];
}

const PHONE_NUMBER_ID = SANDBOX_CREDENTIALS.whatsappPhoneNumberId;

function envelope(value: Record<string, unknown>) {
  return {
    object: "whatsapp_business_account",
    entry: [{
      id: "102290129340398",
      changes: [{
        field: "messages",
        value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_NUMBER_ID }, ...value },
      }],
    }],
  };
}

function messagePayload(run: string, i: number) {
  const wa = `2507${String(80_000_000 + i).padStart(8, "0")}`;
  return envelope({
    contacts: [{ profile: { name: `Bench ${i}` }, wa_id: wa }],
    messages: [{ from: wa, id: `wamid.bench-${run}-${i}`, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: "What time is my appointment?" } }],
  });
}

function statusPayload(wamids: string[], status: string) {
  return envelope({
    statuses: wamids.map((id) => ({
      id, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: "250788000000",
      pricing: { billable: true, pricing_model: "PMP", category: "utility" },
    })),
  });
}

export async function benchWebhook(
  stack: Stack,
  pidOf: (name: string) => number | undefined,
  opts: { total: number; concurrency: number; log: (s: string) => void },
): Promise<WebhookBenchResult> {
  const secret = SANDBOX_CREDENTIALS.whatsappAppSecret;
  const post = (fn: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    return fetch(`${stack.urls.functions}/${fn}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    }).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    });
  };

  // Outbound rows the status batches refer to: 10 per request.
  const sql = postgres(stack.urls.db, { prepare: false, max: 1, onnotice: () => {} });
  const run = `${Date.now()}`;
  await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body, provider, provider_message_id)
    select 'whatsapp', 'outbound', 'sent', '+250788000000', 'bench', 'whatsapp', 'wamid.out-' || ${run} || '-' || g
    from generate_series(1, ${opts.total * 10}) g`;
  await sql.end();
  const wamids = (i: number) => Array.from({ length: 10 }, (_, k) => `wamid.out-${run}-${i * 10 + k + 1}`);

  const measured = async (fn: string, label: string, one: (i: number) => Promise<boolean>) => {
    const pid = pidOf(fn);
    for (let i = 0; i < 10; i++) await one(opts.total + i); // warm-up, outside the figures
    const before = pid ? await processUsage(pid) : null;
    const stats = await drive(label, opts.total, opts.concurrency, one, (d) => opts.log(`  ${label}: ${d}/${opts.total}`));
    const after = pid ? await processUsage(pid) : null;
    return {
      ...stats,
      peakRssMiB: after?.peakRssMiB ?? null,
      cpuMsPerRequest: before && after ? (after.cpuMs - before.cpuMs) / opts.total : null,
    };
  };

  const floor = await measured("webhook-floor", "floor: verify signature + 1 insert", (i) => post("webhook-floor", messagePayload(`floor-${run}`, i)));
  const messages = await measured("wa-webhook", "wa-webhook: 1 text message", (i) => post("wa-webhook", messagePayload(run, i)));
  const statuses = await measured("wa-webhook", "wa-webhook: batch of 10 statuses", (i) => post("wa-webhook", statusPayload(wamids(i % opts.total), "delivered")));
  return { runs: [floor, messages, statuses] };
}

export { functionPid };
