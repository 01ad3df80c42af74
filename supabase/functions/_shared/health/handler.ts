import { type Env, type ProviderMode, providerModes } from "../config.ts";
import type { Sql } from "../db/client.ts";
import { EXPECTED_MIGRATIONS } from "../db/migrations.manifest.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";

export interface HealthDeps {
  sql: Sql;
  config: Env;
  logger: Logger;
  /** Defaults to the generated manifest of supabase/migrations. */
  expectedMigrations?: readonly string[];
  /** A health check that hangs is worse than one that fails: the database gets this long. */
  timeoutMs?: number;
}

export interface HealthReport {
  status: "ok" | "degraded";
  database: { reachable: boolean; latency_ms?: number };
  migrations?: { applied: string[]; expected: string[]; current: boolean };
  providers: {
    whatsapp: ProviderMode;
    sms: ProviderMode;
    openai: ProviderMode;
    meta: ProviderMode;
  };
}

const versionOf = (id: string) => id.split("_", 1)[0];

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Is the database reachable, and does it have the migrations this code expects? Applied
 * migrations are the Supabase CLI's own record (supabase_migrations.schema_migrations); a
 * database never pushed to by the CLI has none. Compared by version, as the CLI does.
 */
async function readDatabase(sql: Sql, expected: readonly string[]) {
  const started = performance.now();
  const [{ recorded }] = await sql<{ recorded: boolean }[]>`
    select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as recorded`;
  const latency_ms = Math.round((performance.now() - started) * 10) / 10;
  const rows = recorded
    ? await sql<{ version: string; name: string | null }[]>`
        select version, name from supabase_migrations.schema_migrations order by version`
    : [];
  const applied = rows.map((r) => (r.name ? `${r.version}_${r.name}` : r.version));
  const appliedVersions = new Set(applied.map(versionOf));
  const expectedVersions = new Set(expected.map(versionOf));
  const current = appliedVersions.size === expectedVersions.size &&
    [...expectedVersions].every((v) => appliedVersions.has(v));
  return { latency_ms, migrations: { applied, expected: [...expected], current } };
}

export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const providers = providerModes(deps.config, deps.config.LOCAL_SANDBOX_URL);
  try {
    const db = await withTimeout(
      readDatabase(deps.sql, deps.expectedMigrations ?? EXPECTED_MIGRATIONS),
      deps.timeoutMs ?? 3000,
    );
    return {
      status: "ok",
      database: { reachable: true, latency_ms: db.latency_ms },
      migrations: db.migrations,
      providers,
    };
  } catch (err) {
    deps.logger.warn("HEALTH_DATABASE_UNREACHABLE", {
      error: err instanceof Error ? err.message : String(err),
    });
    return { status: "degraded", database: { reachable: false }, providers };
  }
}

/** `GET /health`: 200 with the report, or 503 (no internals) when the database is unreachable. */
export function createHealthHandler(deps: HealthDeps): (req: Request) => Promise<Response> {
  return withErrors(deps.logger, async (req) => {
    if (req.method !== "GET") throw methodNotAllowed(["GET"]);
    const report = await checkHealth(deps);
    return json(report, report.database.reachable ? 200 : 503, { "cache-control": "no-store" });
  });
}
