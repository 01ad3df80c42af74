import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSandboxProviders } from "../../../../scripts/stack/sandbox-env.ts";
import { createTestDatabase, type TestDatabase } from "../../../../tests/support/db.ts";
import { loadConfig } from "../config.ts";
import { createSql } from "../db/client.ts";
import { EXPECTED_MIGRATIONS } from "../db/migrations.manifest.ts";
import { memoryLogger } from "../log/logger.ts";
import { createHealthHandler } from "./handler.ts";

const SANDBOX = "http://127.0.0.1:54324";
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

function handlerFor(env: Record<string, string>, sql = db.sql) {
  const logger = memoryLogger();
  const config = loadConfig({ SUPABASE_DB_URL: db.url, ...env });
  return { handle: createHealthHandler({ sql, config, logger, timeoutMs: 2000 }), logger };
}

const get = () => new Request("http://localhost/health");

describe("health", () => {
  it("reports the database reachable and migrations not current before the CLI recorded any", async () => {
    const { handle } = handlerFor({});
    const res = await handle(get());
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe("ok");
    expect(body.database.reachable).toBe(true);
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(body.migrations).toEqual({
      applied: [],
      expected: [...EXPECTED_MIGRATIONS],
      current: false,
    });
  });

  it("says current once every expected migration is recorded by the CLI, and not when one is missing", async () => {
    await db.sql.unsafe(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text)`);
    const rows = EXPECTED_MIGRATIONS.map((id) => ({
      version: id.slice(0, 14),
      name: id.slice(15),
    }));
    await db.sql`insert into supabase_migrations.schema_migrations ${db.sql(rows.slice(0, -1))}`;
    const { handle } = handlerFor({});
    const partial = await (await handle(get())).json();
    expect(partial.migrations.current).toBe(false);
    expect(partial.migrations.applied).toEqual(EXPECTED_MIGRATIONS.slice(0, -1));

    await db.sql`insert into supabase_migrations.schema_migrations ${db.sql(rows.slice(-1))}`;
    const full = await (await handle(get())).json();
    expect(full.migrations).toEqual({
      applied: [...EXPECTED_MIGRATIONS],
      expected: [...EXPECTED_MIGRATIONS],
      current: true,
    });
  });

  it("reports which providers are real, sandbox or unconfigured", async () => {
    const sandboxed = await (await handlerFor(withSandboxProviders({}, SANDBOX)).handle(get()))
      .json();
    expect(sandboxed.providers).toEqual({
      whatsapp: "sandbox",
      sms: "sandbox",
      openai: "sandbox",
      meta: "sandbox",
      genesys: "sandbox",
      email: "sandbox",
    });

    const real = await (await handlerFor({
      WHATSAPP_ACCESS_TOKEN: "EAAG",
      WHATSAPP_PHONE_NUMBER_ID: "1",
      OPENAI_API_KEY: "sk-test",
    }).handle(get())).json();
    expect(real.providers).toEqual({
      whatsapp: "real",
      sms: "unconfigured",
      openai: "real",
      meta: "unconfigured",
      genesys: "unconfigured",
      email: "unconfigured",
    });
  });

  it("answers 503 degraded, without internals, when the database is unreachable", async () => {
    const dead = createSql("postgres://postgres:secret-password@127.0.0.1:1/postgres", { max: 1 });
    try {
      const { handle, logger } = handlerFor({}, dead);
      const res = await handle(get());
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({
        status: "degraded",
        database: { reachable: false },
      });
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|secret|migrations/);
      expect(logger.lines.some((l) => l.event === "HEALTH_DATABASE_UNREACHABLE")).toBe(true);
    } finally {
      await dead.end({ timeout: 1 });
    }
  });

  it("allows only GET", async () => {
    const res = await handlerFor({}).handle(
      new Request("http://localhost/health", { method: "POST" }),
    );
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });
});
