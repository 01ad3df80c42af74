/**
 * The dispatch function's handler: secret key only, body validation, and its two recovery
 * duties besides the outbox — WhatsApp calls whose post-call flow never ran, and the report.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestDatabase } from "../support/db.ts";
import type { FakeMtn, FakeWhatsApp } from "../support/fake-providers.ts";
import { envVars, startTestEnv, type TestEnv } from "../support/env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { createDispatchHandler } from "../../supabase/functions/_shared/dispatch/handler.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_for_dispatch_tests_0123456789";
let db: TestDatabase;
let wa: FakeWhatsApp;
let mtn: FakeMtn;

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
  ({ db, wa, mtn } = env);
});
afterAll(() => env?.close());
beforeEach(() => {
  env.reset();
});

function handler() {
  const logger = memoryLogger();
  const config = loadConfig(envVars(env));
  const h = createDispatchHandler({
    sql: db.sql,
    logger,
    senders: createSenderDirectory(config),
    pacer: createPacer(db.sql),
    auth: secretKeyAuth("dispatch", SECRET_KEY),
    postCall: {
      sql: db.sql,
      logger,
      senders: createSenderDirectory(config),
      pacer: createPacer(db.sql),
      config: {
        summaryTemplate: "call_summary",
        templateLanguage: "en",
        summaryWaitMs: 0,
        summaryPollMs: 50,
        sendTimeoutMs: 3_000,
      },
    },
    defaults: { batchSize: 50, timeBudgetMs: 5_000, leaseSeconds: 35 },
  });
  return { h, logger };
}

const call = (body: unknown, key: string | null = SECRET_KEY) =>
  new Request("http://localhost/dispatch", {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("dispatch handler", () => {
  it("accepts only a secret key and a well-formed body", async () => {
    const { h } = handler();
    expect((await h(call({}, null))).status).toBe(401);
    expect((await h(call({}, "anon-key"))).status).toBe(401);
    expect((await h(call({ batch_size: 0 }))).status).toBe(400);
    expect((await h(call({ surprise: true }))).status).toBe(400);
    expect(
      (await h(new Request("http://localhost/dispatch", { headers: { apikey: SECRET_KEY } })))
        .status,
    )
      .toBe(405);
  });

  it("runs the post-call flow of a WhatsApp call that ended without one, once", async () => {
    await db
      .sql`insert into public.call_summaries (call_id, phone_number, summary, created_at, metadata) values
      ('wa-call-lost', '+250788600001', 'We fixed your router.', now() - interval '5 minutes',
       '{"whatsapp_call":{"event":"terminate","status":"COMPLETED"}}'),
      ('wa-call-never-connected', '+250788600002', null, now() - interval '5 minutes',
       '{"whatsapp_call":{"event":"terminate","status":"FAILED"}}'),
      ('wa-call-just-ended', '+250788600003', null, now(),
       '{"whatsapp_call":{"event":"terminate","status":"COMPLETED"}}')`;
    const { h, logger } = handler();
    const res = await h(call({}));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.calls).toEqual({ found: 1, notified: 1, failed: 0 });
    expect(wa.requests).toHaveLength(1);
    expect(mtn.sendRequests()).toHaveLength(1);
    expect((mtn.sendRequests()[0].json as { message: string }).message).toContain("router");
    expect(logger.lines.map((l) => l.event)).toContain("POST_CALL_RECOVERY_DONE");

    const again = await (await handler().h(call({}))).json();
    expect(again.calls).toEqual({ found: 0, notified: 0, failed: 0 });
    expect(wa.requests).toHaveLength(1);
  });

  it("reports what it sent from the outbox", async () => {
    await db
      .sql`insert into public.message_delivery_log (channel, direction, status, recipient, body)
      values ('sms', 'outbound', 'queued', '+250788600010', 'queued for later')`;
    const body = await (await handler().h(call({ replies: false }))).json();
    expect(body.deliveries).toMatchObject({ claimed: 1, sent: 1, failed: 0 });
    expect(body.calls).toBeNull();
    expect((mtn.sendRequests()[0].json as { message: string }).message).toBe("queued for later");
  });
});
