/**
 * The raw webhook archive: every signed body kept (and nothing unsigned), listed and replayed
 * through the `webhook-archive` function into the same handler, idempotently; purged in
 * batches past its retention.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { withApiKey } from "../support/auth.ts";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { whatsappInbound } from "../../scripts/sandbox/inbound-payloads.ts";
import { agentMessage } from "../../scripts/sandbox/genesys.ts";
import { genesysSignature, metaSignature } from "../../scripts/sandbox/signing.ts";
import { SANDBOX_CREDENTIALS as C, sandboxDefaults } from "../../scripts/stack/sandbox-env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { waWebhook } from "../../supabase/functions/_shared/wa-webhook/main.ts";
import { genesysWebhook } from "../../supabase/functions/_shared/genesys-webhook/main.ts";
import { createWebhookArchiveHandler } from "../../supabase/functions/_shared/webhook-archive/handler.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";
import { createAccountDirectory } from "../../supabase/functions/_shared/tenants/accounts.ts";
import { createLogger } from "../../supabase/functions/_shared/log/logger.ts";

const SECRET = "sb_secret_archive_test_123456";
let db: TestDatabase;
let sandbox: Sandbox;
let served: Served;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = createSandbox({ statusCallbacks: false });
  served = await serve(sandbox.handler);
});
afterAll(async () => {
  await sandbox?.close();
  await served?.close();
  await db?.close();
});

function functions() {
  const d = sandboxDefaults(served.url);
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    ...d.whatsapp,
    ...d.genesys,
    OPENAI_BASE_URL: `${served.url}/openai/v1`,
    LOG_LEVEL: "error",
    WHATSAPP_ROUTING: "agent",
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }),
  });
  const background = backgroundTracker();
  const wa = waWebhook({ env, waitUntil: background.waitUntil });
  const genesys = genesysWebhook({ env, waitUntil: background.waitUntil });
  // The functions gateway: the archive's replays reach the handlers in-process.
  const gateway = (url: string | URL | Request, init?: RequestInit) => {
    const req = new Request(url, init);
    const name = new URL(req.url).pathname.split("/")[3];
    return name === "wa-webhook" ? wa(req) : genesys(req);
  };
  const archive = createWebhookArchiveHandler({
    sql: db.sql,
    logger: createLogger({ level: "error" }),
    auth: authOf("webhook-archive", env),
    secrets: { accounts: createAccountDirectory(db.sql, env) },
    functionsUrl: "http://functions.test/functions/v1",
    fetch: gateway as typeof fetch,
  });
  return { wa, genesys, archive, gateway, settled: background.settled, env };
}

describe("webhook archive", () => {
  it(
    "keeps signed bodies only, lists them, and replays one into the same handler idempotently",
    async () => {
      const fn = functions();
      const w = whatsappInbound({ from: "+250788600001", text: "archive me", now: new Date() }, {
        ...C,
      });
      const post = (signature: string) =>
        fn.wa(
          new Request("http://localhost/wa-webhook", {
            method: "POST",
            headers: { "x-hub-signature-256": signature, "content-type": "application/json" },
            body: w.body,
          }),
        );
      expect((await post("sha256=00")).status).toBe(401);
      expect((await post(await metaSignature(C.whatsappAppSecret, w.body))).status).toBe(200);
      await fn.settled();
      const rows = await db.sql<{ id: string; body: string }[]>`
      select id, body from public.webhook_archive where source = 'wa-webhook'`;
      expect(rows).toHaveLength(1);
      expect(rows[0].body).toBe(w.body);
      expect(JSON.parse(
        (await db.sql`
      select count(*)::int as n from public.genesys_outbox`)[0].n,
      )).toBe(1);

      const list = await fn.archive(
        new Request("http://localhost/webhook-archive?source=wa-webhook", {
          headers: withApiKey(SECRET),
        }),
      );
      expect(list.status).toBe(200);
      const listed = await list.json();
      expect(listed.items).toEqual([
        expect.objectContaining({ source: "wa-webhook", replay_count: 0 }),
      ]);
      expect(listed.items[0]).not.toHaveProperty("body");
      expect(
        (await fn.archive(new Request("http://localhost/webhook-archive?source=wa-webhook")))
          .status,
      ).toBe(401);

      // The replay goes through the real handler: signed, accepted, recorded once.
      const replay = await fn.archive(
        new Request(`http://localhost/webhook-archive/${rows[0].id}/replay`, {
          method: "POST",
          headers: withApiKey(SECRET),
        }),
      );
      expect(replay.status).toBe(200);
      const replayed = await replay.json();
      expect(replayed).toMatchObject({ source: "wa-webhook", status: 200 });
      expect(JSON.parse(replayed.answer).received).toMatchObject({ messages: 0, duplicates: 1 });
      const [after] = await db.sql<{ replay_count: number; last_replay_status: number }[]>`
      select replay_count, last_replay_status from public.webhook_archive where id = ${rows[0].id}`;
      expect(after).toEqual({ replay_count: 1, last_replay_status: 200 });
    },
    60_000,
  );

  it("a Genesys agent message is archived and its replay reaches the person once", async () => {
    const fn = functions();
    const { body } = agentMessage(
      { messages: sandbox.messages, credentials: { ...C }, now: () => new Date() },
      "+250788600001",
      "Hello from Grace",
    );
    const res = await fn.genesys(
      new Request("http://localhost/genesys-webhook", {
        method: "POST",
        headers: { "x-hub-signature-256": await genesysSignature(C.genesysWebhookSecret, body) },
        body,
      }),
    );
    expect(res.status).toBe(200);
    const [row] = await db.sql<{ id: string }[]>`
      select id from public.webhook_archive where source = 'genesys-webhook' order by id desc limit 1`;
    const replay = await fn.archive(
      new Request(`http://localhost/webhook-archive/${row.id}/replay`, {
        method: "POST",
        headers: withApiKey(SECRET),
      }),
    );
    expect((await replay.json()).status).toBe(200);
    expect(
      sandbox.messages.list({ provider: "whatsapp", to: "+250788600001" })
        .filter((m) => m.body === "Hello from Grace"),
    ).toHaveLength(1);
  }, 60_000);

  it("purges bodies past the retention in batches", async () => {
    await db.sql`insert into public.webhook_archive (direction, source, body, received_at)
      select 'inbound', 'wa-webhook', '{}', now() - interval '20 days' from generate_series(1, 5)`;
    const first = await db.sql<{ n: number }[]>`
      select public.purge_webhook_archive(interval '14 days', 3) as n`;
    const second = await db.sql<{ n: number }[]>`
      select public.purge_webhook_archive(interval '14 days', 3) as n`;
    expect([first[0].n, second[0].n]).toEqual([3, 2]);
    const [{ n }] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from public.webhook_archive where received_at < now() - interval '14 days'`;
    expect(n).toBe(0);
  }, 60_000);
});
