/**
 * Drives the wa-webhook handler in-process against a test database, with requests signed the
 * way Meta signs them (an independent HMAC from node:crypto), and the post-call flow's
 * providers as local fake servers. The webhook's `onAccepted` runs the real inbox worker
 * (drainInbox) in the background, as the agent-worker function does; its reply step is
 * injected: here it records what it is given, which is what the reply path would take.
 */
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestDatabase } from "../support/db.ts";
import type { FakeMtn, FakeWhatsApp } from "../support/fake-providers.ts";
import { NO_PACING, sendersFor } from "../support/env.ts";
import {
  createWaWebhookHandler,
  type WaWebhookDeps,
} from "../../supabase/functions/_shared/wa-webhook/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import type { InboundForReply } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { drainInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { createAccountDirectory } from "../../supabase/functions/_shared/tenants/accounts.ts";
import type { ToAgents } from "../../supabase/functions/_shared/wa-webhook/follow-ups.ts";

export const APP_SECRET = "wa-app-secret-for-tests";
export const VERIFY_TOKEN = "wa-verify-token-for-tests";
export const URL_BASE = "http://localhost/wa-webhook";

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/meta");

/** Meta's example payloads, by file name without `.json`. */
export function fixtureNames(): string[] {
  return readdirSync(fixturesDir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5))
    .sort();
}

/** The fixture's exact bytes, as Meta would send them. */
export function fixtureRaw(name: string): string {
  return readFileSync(join(fixturesDir, `${name}.json`), "utf8");
}

// deno-lint-ignore no-explicit-any
export function fixture(name: string): any {
  return JSON.parse(fixtureRaw(name));
}

export function sign(body: string | Uint8Array, secret = APP_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A POST as Meta sends it: signed unless `signature` says otherwise (null: no header). */
export function post(
  body: string | Uint8Array<ArrayBuffer>,
  signature: string | null = sign(body),
): Request {
  return new Request(URL_BASE, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    },
    body,
  });
}

export interface Harness {
  handler: (req: Request) => Promise<Response>;
  /** What the inbox worker the handler kicked handed to the reply path, in order. */
  inbound: InboundForReply[];
  /** What the handler handed to Genesys agents, in order. */
  toAgents: Parameters<ToAgents>[];
  log: ReturnType<typeof memoryLogger>;
  /** Resolves when the background work (inbox worker and its replies, post-call flows) is done. */
  settled(): Promise<void>;
  /**
   * Resolves once every inbox worker kicked so far has derived what it took (profiles, sessions,
   * message rows); their replies may still be running.
   */
  derived(): Promise<void>;
  events(): string[];
}

export interface HarnessOptions {
  db: TestDatabase;
  wa?: FakeWhatsApp;
  mtn?: FakeMtn;
  sql?: Sql;
  appSecret?: string | null;
  verifyToken?: string | null;
  /** Runs for each new message owed a reply, after it is recorded in `inbound`. */
  onInbound?: (i: InboundForReply) => Promise<void>;
  /** Messages for Genesys agents (accounts routed to `agent`); recorded in `toAgents` otherwise. */
  toAgents?: ToAgents;
  /** Env of the default tenant's number (WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ROUTING, …). */
  vars?: Record<string, string>;
}

export function createHarness(opts: HarnessOptions): Harness {
  const log = memoryLogger();
  const background = backgroundTracker((err) =>
    log.error("TEST_BACKGROUND_REJECTED", { error: String(err) })
  );
  const inbound: InboundForReply[] = [];
  const derivations: Promise<void>[] = [];
  const timeoutMs = 2_000;
  const wa = opts.wa;
  const mtn = opts.mtn;
  const toAgents: Parameters<ToAgents>[] = [];
  const appSecret = opts.appSecret === null ? undefined : opts.appSecret ?? APP_SECRET;
  const config = loadConfig({
    SUPABASE_DB_URL: opts.db.url,
    ...(appSecret ? { WHATSAPP_APP_SECRET: appSecret } : {}),
    ...opts.vars,
  });
  const deps: WaWebhookDeps = {
    sql: opts.sql ?? opts.db.sql,
    logger: log,
    accounts: createAccountDirectory(opts.sql ?? opts.db.sql, config),
    receiptToAgents: () => Promise.resolve(),
    toAgents: async (...args) => {
      toAgents.push(args);
      await opts.toAgents?.(...args);
    },
    verifyToken: opts.verifyToken === null ? undefined : opts.verifyToken ?? VERIFY_TOKEN,
    waitUntil: background.waitUntil,
    onAccepted: async () => {
      let markDerived!: () => void;
      derivations.push(new Promise<void>((r) => (markDerived = r)));
      await drainInbox({
        sql: opts.db.sql,
        logger: log,
        onDerived: () => markDerived(),
        onInbound: async (i) => {
          inbound.push(i);
          await opts.onInbound?.(i);
        },
      }).finally(() => markDerived());
    },
    senders: sendersFor({ db: opts.db, wa, mtn }, { timeoutMs }),
    pacer: NO_PACING,
    config: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 100,
      summaryPollMs: 50,
      sendTimeoutMs: timeoutMs + 1_000,
    },
  };
  return {
    handler: createWaWebhookHandler(deps),
    inbound,
    toAgents,
    log,
    settled: background.settled,
    derived: async () => void await Promise.all(derivations),
    events: () => log.lines.map((l) => String(l.event)),
  };
}

/** A copy of a fixture with every occurrence of `from` replaced (a fresh wamid, another person). */
export function withReplaced(name: string, replacements: Record<string, string>): string {
  let raw = fixtureRaw(name);
  for (const [from, to] of Object.entries(replacements)) raw = raw.replaceAll(from, to);
  return raw;
}

export async function countRows(
  sql: Sql,
): Promise<{ deliveries: number; profiles: number; calls: number }> {
  const [r] = await sql`
    select (select count(*)::int from public.message_delivery_log) as deliveries,
           (select count(*)::int from public.profiles) as profiles,
           (select count(*)::int from public.call_summaries) as calls`;
  return { deliveries: r.deliveries, profiles: r.profiles, calls: r.calls };
}
