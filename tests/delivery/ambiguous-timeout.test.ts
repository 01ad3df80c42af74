/**
 * Ambiguous timeouts against the provider sandbox over HTTP: the provider accepts the message
 * at once but answers after the client's timeout (the sandbox's `slow` fault), then sends its
 * signed status callbacks — echoing our row id (WhatsApp biz_opaque_callback_data, MTN
 * clientCorrelatorId, Twilio's StatusCallback URL) — to the real webhook handlers. Dispatch then
 * runs as if the unknown wait had passed. Every person must get exactly one message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C, sandboxDefaults } from "../../scripts/stack/sandbox-env.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { createHarness } from "../wa-webhook/harness.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { createSmsInboundHandler } from "../../supabase/functions/_shared/sms-inbound/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { sendMessage } from "../../supabase/functions/_shared/outbound/send-message.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";

const TIMEOUT_MS = 250;
const SLOW_MS = 900;

let db: TestDatabase;
let functions: Served;
let provider: Served;
let sandbox: Sandbox;
let publicUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const wa = createHarness({ db, appSecret: C.whatsappAppSecret });
  let sms: (req: Request) => Promise<Response> = () =>
    Promise.resolve(new Response(null, { status: 503 }));
  functions = await serve((req) =>
    new URL(req.url).pathname.startsWith("/functions/v1/wa-webhook") ? wa.handler(req) : sms(req)
  );
  publicUrl = `${functions.url}/functions/v1`;
  sms = createSmsInboundHandler({
    sql: db.sql,
    logger: memoryLogger(),
    senders: createSenderDirectory(
      loadConfig({ SUPABASE_DB_URL: db.url, MTN_SMS_API_BASE_URL: "http://127.0.0.1:9" }),
    ),
    pacer: createPacer(db.sql),
    defaultCountry: "RW",
    waitUntil: () => {},
    onInbound: () => Promise.resolve(),
    onAccepted: () => Promise.resolve(),
    webhook: {
      mtnSecret: C.mtnWebhookSecret,
      twilioAuthToken: C.twilioAuthToken,
      publicFunctionsUrl: publicUrl,
    },
  });
  sandbox = createSandbox({
    functionsUrl: publicUrl,
    statusCallbacks: { delayMs: 30 },
    log: () => {},
  });
  provider = await serve(sandbox.handler);
});
afterAll(async () => {
  await sandbox?.close();
  await Promise.all([provider?.close(), functions?.close()]);
  await db?.close();
});

function env() {
  const d = sandboxDefaults(provider.url);
  return loadConfig({
    SUPABASE_DB_URL: db.url,
    ...d.whatsapp,
    ...d.mtn,
    ...d.twilio,
    PUBLIC_FUNCTIONS_URL: publicUrl,
    WHATSAPP_RATE_PER_SECOND: "1000",
    SMS_RATE_PER_SECOND: "1000",
  });
}

let seq = 0;
const phone = () => `+25078${String(5_100_000 + ++seq).padStart(7, "0")}`;

describe("a provider that accepts but answers after the timeout", () => {
  it(
    "20 slow sends (WhatsApp, MTN, Twilio): each person gets exactly one message, rows sent with the provider's id",
    async () => {
      const e = env();
      const opts = { timeoutMs: TIMEOUT_MS };
      const senders = createSenderDirectory({ ...e, PUBLIC_FUNCTIONS_URL: publicUrl }, opts);
      const mtnKey = `sms:mtn:${e.MTN_SMS_SENDER_ID}`;
      // The MTN token is fetched before the fault, so only sends are slow. On a loaded machine
      // the token request itself can outlast the short timeout: try again until it is cached.
      let warm = { ok: false };
      for (let attempt = 0; attempt < 20 && !warm.ok; attempt++) {
        warm = await senders.resolve("sms", mtnKey)!.send({
          id: crypto.randomUUID(),
          channel: "sms",
          recipient: "+250780000001",
          body: "warm-up",
          message_type: "text",
          metadata: null,
          sender_key: null,
        });
      }
      expect(warm.ok).toBe(true);
      sandbox.messages.clear();

      const base = {
        sql: db.sql,
        logger: memoryLogger(),
        senders,
        pacer: createPacer(db.sql),
        whatsappTemplate: { name: "call_summary", language: "en" },
      };
      const plan = [
        ...Array.from({ length: 7 }, () => ({ channel: "whatsapp" as const, key: undefined })),
        ...Array.from({ length: 7 }, () => ({ channel: "sms" as const, key: mtnKey })),
        ...Array.from(
          { length: 6 },
          () => ({ channel: "sms" as const, key: `sms:twilio:${e.TWILIO_FROM_NUMBER}` }),
        ),
      ];
      for (const p of ["whatsapp", "mtn", "twilio"]) {
        sandbox.faults.set({ provider: p, mode: "slow", delay_ms: SLOW_MS });
      }

      const sends = plan.map((p) => ({ ...p, to: phone() }));
      const results = await Promise.all(sends.map((s) =>
        sendMessage(base, {
          senderKey: s.key,
          channel: s.channel,
          to: s.to,
          body: `Your order ${s.to} is ready`,
          purpose: "tool",
          correlationId: `slow-${s.to}`,
        })
      ));
      // The client gave up on every one of them: none may count as failed.
      expect(results.map((r) => r.status).filter((s) => s === "failed")).toEqual([]);
      for (const p of ["whatsapp", "mtn", "twilio"]) {
        sandbox.faults.set({ provider: p, mode: "ok" });
      }
      await new Promise((r) => setTimeout(r, SLOW_MS));
      await sandbox.callbacks.settled();

      // The unknown wait has passed: whatever is still due is dispatched now.
      await db
        .sql`update public.message_delivery_log set next_attempt_at = now() - interval '1 second',
      leased_until = null where status in ('queued', 'unknown')`;
      await dispatchDue({ ...base, logger: memoryLogger() }, {
        batchSize: 50,
        leaseSeconds: 60,
        timeBudgetMs: 5_000,
        correlationId: "slow-dispatch",
      });
      await sandbox.callbacks.settled();

      const delivered = sandbox.messages.list({});
      const perPerson = new Map<string, number>();
      for (const m of delivered) {
        perPerson.set(
          m.to.replace(/^\+?/, "+"),
          (perPerson.get(m.to.replace(/^\+?/, "+")) ?? 0) + 1,
        );
      }
      for (const s of sends) expect(perPerson.get(s.to), `${s.channel} ${s.to}`).toBe(1);
      expect(delivered).toHaveLength(20);

      const rows = await db.sql<
        { recipient: string; status: string; provider_message_id: string | null }[]
      >`
      select recipient, status, provider_message_id from public.message_delivery_log
      where direction = 'outbound' and recipient = any(${sends.map((s) => s.to)})`;
      expect(rows).toHaveLength(20);
      const idOf = new Map(delivered.map((m) => [m.to.replace(/^\+?/, "+"), m.id]));
      for (const row of rows) {
        expect(["sent", "delivered", "read"], row.recipient).toContain(row.status);
        expect(row.provider_message_id, row.recipient).toBe(idOf.get(row.recipient));
      }
    },
    30_000,
  );
});
