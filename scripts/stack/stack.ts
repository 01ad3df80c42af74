import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, providerModes } from "../../supabase/functions/_shared/config.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { SandboxClient } from "../sandbox/client.ts";
import { limitsFromEnv } from "../sandbox/messages.ts";
import { type ApiKeys, loadApiKeys } from "./api-keys.ts";
import { bootstrapIfNeeded } from "./bootstrap.ts";
import { createConsoleHandler } from "./console.ts";
import { type Database, startDatabase } from "./database.ts";
import { parseDotenv } from "./dotenv.ts";
import { functionEnv } from "./function-env.ts";
import { startFunctions } from "./functions.ts";
import { createFunctionProcess } from "./function-process.ts";
import { type FunctionSettings, readFunctionSettings } from "./functions-config.ts";
import { createGateway } from "./gateway.ts";
import { startStorageApi } from "./storage.ts";
import {
  type Housekeeping,
  scheduleDispatch,
  scheduleTemplateSync,
  startHousekeeping,
} from "./housekeeping.ts";
import { deriveKeys, LOCAL_JWT_SECRET, type StackKeys } from "./jwt.ts";
import { pushMigrations } from "./migrations.ts";
import { assertOwnSecretForRealProviders } from "./secret-guard.ts";
import { assertPortsFree, DEFAULT_PORTS, type StackPorts } from "./ports.ts";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface StackOptions {
  /** Defaults to 54321–54324; tests pass `freePorts()` so they never collide with `npm start`. */
  ports?: Partial<StackPorts>;
  /** Embedded database data; default `.data/pglite`, "memory://" for a throwaway database. */
  dataDir?: string;
  /** Use this database instead of the embedded one (default: SUPABASE_DB_URL). */
  dbUrl?: string;
  /** Where functions are found; default supabase/functions. */
  functionsDirs?: string[];
  /** Start only these functions (default: all found). */
  only?: string[];
  /** The environment the stack and its functions start from; default the process's. */
  env?: Record<string, string>;
  /** Also accept the legacy anon/service-role keys (default: unless LEGACY_API_KEYS=reject). */
  legacyKeys?: boolean;
  /** Read supabase/functions/.env (default true; tests turn it off to stay hermetic). */
  dotenv?: boolean;
  /** No step lines and no function output (errors still throw with their details). */
  quiet?: boolean;
  log?: (line: string) => void;
  /** Functions the gateway serves without verify_jwt whatever config.toml says (benchmark floors). */
  publicFunctions?: string[];
}

export interface Stack {
  urls: {
    /** `http://127.0.0.1:<port>`: what SUPABASE_URL is for the functions and clients. */
    api: string;
    functions: string;
    db: string;
    console: string;
    sandbox: string;
  };
  /** The legacy JWT keys (`anon`, `serviceRole`) and the new API keys and JWKS. */
  keys: StackKeys & ApiKeys;
  /** Whether the functions and the gateway still accept the legacy keys. */
  legacyKeys: boolean;
  jwtSecret: string;
  functions: { name: string; verifyJwt: boolean }[];
  providers: ReturnType<typeof providerModes>;
  /**
   * The provider sandbox, which runs in its own process: its control API (recorded messages,
   * faults, settings) over HTTP.
   */
  sandbox: SandboxClient;
  /** The sandbox's process. */
  sandboxPid(): number | undefined;
  housekeeping: Housekeeping & { mode: string };
  /** The function processes running now. */
  pids(): number[];
  /** The process serving one function, if it runs. */
  pidOf(name: string): number | undefined;
  /** Where one function's process listens, bypassing the gateway (benchmarks compare both). */
  originOf(name: string): Promise<string> | undefined;
  stop(): Promise<void>;
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const publicOr =
  (names: string[] = [], settings: (name: string) => FunctionSettings) => (name: string) =>
    names.includes(name) ? { ...settings(name), verifyJwt: false } : settings(name);

function serve(port: number, handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
  return async () => {
    // In-flight requests get a moment; a stuck stream does not hold up the shutdown.
    await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 2000))]);
  };
}

/**
 * Boots the local stack: database (embedded PGlite or SUPABASE_DB_URL), bootstrap, migrations
 * with the Supabase CLI, the provider sandbox, every function as its own Deno process behind the
 * gateway, the console, and the housekeeping jobs when the database has no pg_cron. Each step is
 * reported as it happens. On failure, whatever started is stopped before the error is thrown.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const started = performance.now();
  const env = opts.env ?? Deno.env.toObject();
  const out = opts.log ?? ((line: string) => console.log(line));
  const step = (line: string) => opts.quiet || out(`• ${line}`);
  const ports: StackPorts = { ...DEFAULT_PORTS, ...opts.ports };
  const dbUrl = opts.dbUrl ?? env.SUPABASE_DB_URL;
  const host = "http://127.0.0.1";
  const urls = {
    api: `${host}:${ports.functions}`,
    functions: `${host}:${ports.functions}/functions/v1`,
    console: `${host}:${ports.console}`,
    sandbox: `${host}:${ports.sandbox}`,
  };

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) {
      await stop().catch((err) => out(`stop: ${err instanceof Error ? err.message : err}`));
    }
  };

  try {
    const wanted = [
      { name: "functions gateway", port: ports.functions },
      ...(dbUrl ? [] : [{ name: "database", port: ports.db }]),
      { name: "console", port: ports.console },
      { name: "provider sandbox", port: ports.sandbox },
    ];
    await assertPortsFree(wanted);
    step(`ports free: ${wanted.map((w) => w.port).join(", ")}`);

    let t = performance.now();
    const dataDir = opts.dataDir ?? join(ROOT, ".data/pglite");
    const db: Database = await startDatabase({ url: dbUrl, port: ports.db, dataDir });
    stoppers.push(db.stop);
    step(
      db.embedded
        ? `database: embedded PGlite (${dataDir}) on 127.0.0.1:${ports.db}, ready in ${seconds(t)}`
        : `database: ${redact(db.url)}`,
    );

    t = performance.now();
    const bootstrap = await bootstrapIfNeeded(db);
    step(
      bootstrap === "supabase"
        ? "bootstrap: skipped (Supabase Postgres has the roles and auth helpers)"
        : `bootstrap: roles and auth helpers in place (${seconds(t)})`,
    );

    t = performance.now();
    const pushed = await pushMigrations({
      root: ROOT,
      dbUrl: db.url,
      onProgress: (n, total, migration) => step(`migrations ${n}/${total}: ${migration}`),
    });
    step(
      pushed.applied.length
        ? `migrations applied with the Supabase CLI in ${seconds(t)}`
        : pushed.cliSkipped
        ? `migrations: up to date (all recorded in supabase_migrations, ${seconds(t)})`
        : `migrations: up to date (Supabase CLI, ${seconds(t)})`,
    );

    const jwtSecret = env.SUPABASE_JWT_SECRET || LOCAL_JWT_SECRET;
    if (jwtSecret.length < 32) {
      throw new Error("SUPABASE_JWT_SECRET must be at least 32 characters");
    }
    const legacyKeys = opts.legacyKeys ?? env.LEGACY_API_KEYS !== "reject";
    // Kept beside the embedded database so they survive restarts, as hosted keys do.
    const keysFile = opts.dataDir === "memory://" ? null : join(ROOT, ".data/api-keys.json");
    const keys = { ...await deriveKeys(jwtSecret), ...await loadApiKeys(keysFile, env) };
    const dotenv = opts.dotenv === false ? {} : await Deno.readTextFile(
      join(ROOT, "supabase/functions/.env"),
    ).then(parseDotenv, () => ({}));
    const fnEnv = functionEnv({
      processEnv: env,
      dotenv,
      apiUrl: urls.api,
      dbUrl: db.url,
      sandboxUrl: urls.sandbox,
      jwtSecret,
      keys,
      apiKeys: keys,
      legacyKeys,
    });
    const providers = providerModes(loadConfig(fnEnv), urls.sandbox);
    const label = (p: string) => (p === "sms" ? `sms (${fnEnv.SMS_PROVIDER})` : p);
    step(`providers: ${Object.entries(providers).map(([p, m]) => `${label(p)} ${m}`).join(", ")}`);
    assertOwnSecretForRealProviders(jwtSecret, providers);

    // The sandbox also plays the providers' side of the webhooks: inbound messages and status
    // callbacks, signed, to the functions (through the gateway, as the providers reach them).
    // Its own process, so it never shares a thread with the gateway. Its limits are checked
    // here, so a bad one stops the start at once with its message.
    limitsFromEnv(env);
    const sandboxProcess = createFunctionProcess({
      name: "sandbox",
      entry: join(ROOT, "scripts/sandbox/main.ts"),
      root: ROOT,
      port: ports.sandbox,
      portEnv: "SANDBOX_PORT",
      prefixed: false,
      afterExit: "restart the stack to get it back",
      env: sandboxProcessEnv(env, {
        SANDBOX_FUNCTIONS_URL: urls.functions,
        SANDBOX_PUBLIC_FUNCTIONS_URL: fnEnv.PUBLIC_FUNCTIONS_URL ?? "",
        SANDBOX_SMS_PROVIDER: fnEnv.SMS_PROVIDER === "twilio" ? "twilio" : "mtn",
      }),
      log: (line) => opts.quiet || out(line),
    });
    stoppers.push(sandboxProcess.stop);
    // It boots while the functions do.
    const sandboxUp = sandboxProcess.origin().then(() => null, (err: Error) => err);
    const sandbox = new SandboxClient(urls.sandbox);

    t = performance.now();
    const { functions, failed, processes } = await startFunctions({
      root: ROOT,
      dirs: opts.functionsDirs ?? [join(ROOT, "supabase/functions")],
      only: opts.only,
      settings: publicOr(
        opts.publicFunctions,
        readFunctionSettings(await Deno.readTextFile(join(ROOT, "supabase/config.toml"))),
      ),
      env: fnEnv,
      log: (line) => opts.quiet || out(line),
    });
    stoppers.push(...[...processes.values()].map((p) => p.stop));
    const up = functions.filter((f) => !failed.includes(f.name));
    step(
      `functions ready in ${seconds(t)}: ${
        up.map((f) => `${f.name}${f.verifyJwt ? " (gateway verifies JWT)" : ""}`).join(", ") ||
        "none"
      }`,
    );
    if (failed.length) step(`did not start (see their output above): ${failed.join(", ")}`);
    const sandboxFailed = await sandboxUp;
    if (sandboxFailed) throw sandboxFailed;
    step(`provider sandbox on ${urls.sandbox} (its own process)`);

    const routes = new Map(functions.map((f) => [f.name, {
      verifyJwt: f.verifyJwt,
      origin: () => processes.get(f.name)!.origin(),
    }]));
    const storage = await startStorageApi({ root: ROOT, dataDir: opts.dataDir, jwtSecret, keys });
    stoppers.push(storage.stop);
    stoppers.push(
      serve(
        ports.functions,
        createGateway({
          routes: (n) => routes.get(n),
          mounts: [storage.mount],
          jwks: JSON.parse(keys.jwks),
          jwtSecret: legacyKeys ? jwtSecret : undefined,
        }),
      ),
    );
    step(`functions gateway on ${urls.functions}/<name>`);
    step(`storage API on ${urls.api}/storage/v1 (files in ${storage.dir})`);

    const consoleSql = createSql(db.url, { max: 2 });
    stoppers.push(() => consoleSql.end({ timeout: 2 }));
    stoppers.push(serve(
      ports.console,
      createConsoleHandler({
        consoleUrl: urls.console,
        functionsUrl: urls.functions,
        secretKey: keys.secret,
        sandboxUrl: urls.sandbox,
        dbUrl: redact(db.url),
        functions: functions.map((f) => f.name),
        sql: consoleSql,
        // Its lines are unexpected errors only: quiet or not, they are never dropped.
        log: (line) => opts.quiet ? console.error(`[console] ${line}`) : out(`[console] ${line}`),
      }),
    ));
    step(`console on ${urls.console}`);

    const sql = createSql(db.url, { max: 1 });
    stoppers.push(() => sql.end({ timeout: 2 }));
    const housekeeping = await startHousekeeping(sql, (line) => opts.quiet || out(line));
    stoppers.push(() => Promise.resolve(housekeeping.stop()));
    const [{ has_net: hasNet }] = await sql`
      select exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') as has_net`;
    if (
      !(housekeeping.mode === "pg_cron" && hasNet) && functions.some((f) => f.name === "dispatch")
    ) {
      const ticker = scheduleDispatch(
        urls.functions,
        keys.secret,
        (line) => opts.quiet || out(line),
      );
      stoppers.push(() => Promise.resolve(ticker.stop()));
      step(
        "dispatch: the stack calls /functions/v1/dispatch every minute (no pg_cron + pg_net here)",
      );
    }
    if (
      !(housekeeping.mode === "pg_cron" && hasNet) && functions.some((f) => f.name === "messages")
    ) {
      const ticker = scheduleTemplateSync(
        urls.functions,
        keys.secret,
        (line) => opts.quiet || out(line),
      );
      stoppers.push(() => Promise.resolve(ticker.stop()));
    }
    step(
      housekeeping.mode === "pg_cron"
        ? "housekeeping: pg_cron runs the scheduled jobs in the database"
        : housekeeping.mode === "local"
        ? `housekeeping: no pg_cron, the stack runs ${
          housekeeping.jobs.map((j) => `${j.name} (${j.schedule})`).join(", ")
        }`
        : "housekeeping: no scheduled jobs",
    );

    step(`ready in ${seconds(started)}`);
    return {
      urls: { ...urls, db: db.url },
      keys,
      legacyKeys,
      jwtSecret,
      functions,
      providers,
      sandbox,
      sandboxPid: () => sandboxProcess.pid,
      housekeeping,
      pids: () => [...processes.values()].flatMap((p) => (p.pid ? [p.pid] : [])),
      pidOf: (name: string) => processes.get(name)?.pid ?? undefined,
      originOf: (name: string) => processes.get(name)?.origin(),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The sandbox process's environment: what Deno needs to run (PATH, HOME, DENO_*), its limits
 * (SANDBOX_MAX_MESSAGES, SANDBOX_MAX_BYTES) and `own`; no credentials of the stack.
 */
function sandboxProcessEnv(
  env: Record<string, string>,
  own: Record<string, string>,
): Record<string, string> {
  const kept = Object.entries(env).filter(([k]) =>
    /^(PATH|HOME|TMPDIR|TZ|LANG|LC_.*|NO_COLOR|DENO_.*|NPM_CONFIG_.*|SANDBOX_MAX_(MESSAGES|BYTES))$/
      .test(k)
  );
  return { ...Object.fromEntries(kept), ...own };
}

/** A database URL fit to print: the password hidden. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "<unparseable database URL>";
  }
}
