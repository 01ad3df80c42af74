/**
 * `npm run bench -- post-call`: post-call notifications with instant providers (the sandbox,
 * in-process), side by side with a floor in the same run: a handler that does the least any
 * design must do — one insert into the delivery log and the two provider calls in parallel.
 *
 * Reports notifications/s and p50/p99 through the gateway (the real function process), and
 * in-process (handler called directly), plus database round trips per notification counted by
 * postgres.js's `debug` hook.
 */
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";
import { createPostCallNotifyHandler } from "../../supabase/functions/_shared/post-call-notify/handler.ts";
import { createLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createWhatsAppAdapter } from "../../supabase/functions/_shared/channels/whatsapp.ts";
import { createMtnSmsAdapter } from "../../supabase/functions/_shared/channels/sms-mtn.ts";
import { createPacer } from "../../supabase/functions/_shared/delivery/pacing.ts";
import type { Stack } from "../stack/stack.ts";
import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { drive, fmt, type RunStats } from "./stats.ts";

/** Pacing buckets far above what the benchmark sends, so they count their round trip but never wait. */
export const BENCH_RATE = 100_000;

export interface PostCallBenchResult {
  runs: RunStats[];
  roundTripsPerNotification: number;
  floorRoundTrips: number;
}

export async function benchPostCall(
  stack: Stack,
  opts: { total: number; concurrency: number; log: (s: string) => void },
): Promise<PostCallBenchResult> {
  let queries = 0;
  const sql = postgres(stack.urls.db, {
    prepare: false,
    max: 4,
    onnotice: () => {},
    debug: () => void queries++,
  });
  const c = SANDBOX_CREDENTIALS;
  const whatsapp = createWhatsAppAdapter({
    baseUrl: `${stack.urls.sandbox}/whatsapp/v21.0`,
    accessToken: c.whatsappAccessToken,
    phoneNumberId: c.whatsappPhoneNumberId,
  });
  const sms = createMtnSmsAdapter({
    baseUrl: `${stack.urls.sandbox}/mtn`,
    apiKey: c.mtnApiKey,
    apiSecret: c.mtnApiSecret,
    senderId: "OMNI",
  });
  const handler = createPostCallNotifyHandler({
    sql,
    logger: createLogger({ level: "error" }),
    whatsapp,
    sms,
    auth: authOf("post-call-notify", loadConfig({
      SUPABASE_DB_URL: stack.urls.db,
      SUPABASE_SECRET_KEYS: stack.keys.secretKeys,
      LEGACY_API_KEYS: "reject",
    })),
    defaultCountry: "RW",
    // Pacing on, as in production, with buckets above the load so they never make it wait.
    pacing: {
      pacer: createPacer(sql),
      whatsapp: { key: `whatsapp:${c.whatsappPhoneNumberId}`, ratePerSecond: BENCH_RATE },
      sms: { key: "sms:mtn:OMNI", ratePerSecond: BENCH_RATE },
    },
    config: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 0,
      summaryPollMs: 50,
      sendTimeoutMs: 10_000,
    },
  });

  const run = `${Date.now()}`;
  const phone = (i: number) => `+25078${String(1_000_000 + (i % 8_000_000)).padStart(7, "0")}`;
  const body = (tag: string, i: number) =>
    JSON.stringify({
      call_id: `bench-${tag}-${run}-${i}`,
      phone_number: phone(i),
      summary: "We agreed on a new monthly price of 250k. Delivery moved to Friday morning.",
    });
  const headers = {
    "content-type": "application/json",
    apikey: stack.keys.secret,
  };
  const client = createClient(stack.urls.api, stack.keys.secret, { auth: { persistSession: false } });
  const okOutcome = async (res: Response) => res.ok && (await res.json()).outcome === "sent";

  // The floor: one insert + both provider calls, no session, no claim, no outcome.
  const floor = async (i: number) => {
    await sql`insert into public.message_delivery_log (channel, direction, status, recipient, body)
      values ('sms', 'outbound', 'queued', ${phone(i)}, 'floor')`;
    const [a, b] = await Promise.all([
      whatsapp.sendText(phone(i), "floor"),
      sms.send(phone(i), "floor"),
    ]);
    return a.ok && b.ok;
  };

  // Warm-up: JIT, connections, token cache.
  for (let i = 0; i < 10; i++) {
    await handler(new Request("http://bench/post-call-notify", { method: "POST", headers, body: body("warm", i) }));
    await floor(i);
  }

  const progress = (label: string) => (done: number) => opts.log(`  ${label}: ${done}/${opts.total}`);
  queries = 0;
  const floorRun = await drive("floor (1 insert + 2 provider calls), in-process", opts.total, opts.concurrency, floor, progress("floor"));
  const floorRoundTrips = queries / opts.total;

  queries = 0;
  const inProcess = await drive("post-call-notify, in-process handler", opts.total, opts.concurrency, async (i) =>
    okOutcome(await handler(new Request("http://bench/post-call-notify", { method: "POST", headers, body: body("inproc", i) }))), progress("in-process"));
  const roundTripsPerNotification = queries / opts.total;

  const gateway = await drive("post-call-notify, through the gateway (Deno function process)", opts.total, opts.concurrency, async (i) =>
    (await client.functions.invoke("post-call-notify", { body: JSON.parse(body("gw", i)) })).data?.outcome === "sent", progress("gateway"));

  await sql.end();
  opts.log(`  round trips per notification: ${fmt(roundTripsPerNotification, 2)} (floor ${fmt(floorRoundTrips, 2)})`);
  return { runs: [floorRun, inProcess, gateway], roundTripsPerNotification, floorRoundTrips };
}
