/**
 * Drives the meta-webhook handler in-process against a test database, with requests signed the
 * way Meta signs them (an independent HMAC from node:crypto), and the Graph API as a local fake
 * (sender actions, the profile API, sends). The AI reply is the handler's injected `onInbound`:
 * here it records what it is given (and runs `onInbound` when a test wants the real reply path).
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestDatabase } from "../support/db.ts";
import type { FakeMeta, FakeMtn } from "../support/fake-providers.ts";
import { NO_PACING, sendersFor } from "../support/env.ts";
import {
  createMetaWebhookHandler,
  type MetaWebhookDeps,
} from "../../supabase/functions/_shared/meta-webhook/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import type { InboundForReply } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { createMetaAdapter } from "../../supabase/functions/_shared/channels/meta.ts";
import type { OutboundDeps } from "../../supabase/functions/_shared/outbound/send.ts";
import type { MetaChannel } from "../../supabase/functions/_shared/notifications/meta-format.ts";

export const APP_SECRET = "meta-app-secret-for-tests";
export const VERIFY_TOKEN = "meta-verify-token-for-tests";
export const URL_BASE = "http://localhost/meta-webhook";
export const PSID = "6712458890123456";
export const IGSID = "1188734505712345";

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/meta");

/** The fixture's exact bytes (`messenger/text`, `instagram/seen`, …), as Meta would send them. */
export function fixtureRaw(name: string): string {
  return readFileSync(join(fixturesDir, `${name}.json`), "utf8");
}

/** A copy of a fixture with every occurrence of each key replaced (a fresh mid, another person). */
export function withReplaced(name: string, replacements: Record<string, string>): string {
  let raw = fixtureRaw(name);
  for (const [from, to] of Object.entries(replacements)) raw = raw.replaceAll(from, to);
  return raw;
}

export function sign(body: string, secret = APP_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A POST as Meta sends it: signed unless `signature` says otherwise (null: no header). */
export function post(body: string, signature: string | null = sign(body)): Request {
  return new Request(URL_BASE, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    },
    body,
  });
}

/** The Graph API settings the senders read, pointed at the fake. */
export function metaVars(meta: FakeMeta): Record<string, string> {
  return {
    META_GRAPH_BASE_URL: meta.baseUrl,
    MESSENGER_PAGE_ACCESS_TOKEN: meta.pageToken,
    INSTAGRAM_ACCESS_TOKEN: meta.instagramToken,
  };
}

/** The one outbound path, with Meta and MTN on their fakes and no pacing. */
export function outboundFor(db: TestDatabase, meta: FakeMeta, mtn?: FakeMtn): OutboundDeps {
  return {
    sql: db.sql,
    logger: memoryLogger(),
    senders: sendersFor({ db, mtn }, { vars: metaVars(meta) }),
    pacer: NO_PACING,
  };
}

export interface Harness {
  handler: (req: Request) => Promise<Response>;
  inbound: InboundForReply<MetaChannel>[];
  log: ReturnType<typeof memoryLogger>;
  settled(): Promise<void>;
  events(): string[];
}

export function createHarness(opts: {
  db: TestDatabase;
  meta: FakeMeta;
  appSecret?: string | null;
  verifyToken?: string | null;
  onInbound?: (i: InboundForReply<MetaChannel>) => Promise<void>;
}): Harness {
  const log = memoryLogger();
  const background = backgroundTracker((err) =>
    log.error("TEST_BACKGROUND_REJECTED", { error: String(err) })
  );
  const inbound: InboundForReply<MetaChannel>[] = [];
  const adapter = (channel: MetaChannel) =>
    createMetaAdapter({
      channel,
      baseUrl: opts.meta.baseUrl,
      accessToken: channel === "messenger" ? opts.meta.pageToken : opts.meta.instagramToken,
    }, { timeoutMs: 2_000 });
  const deps: MetaWebhookDeps = {
    sql: opts.db.sql,
    logger: log,
    appSecret: opts.appSecret === null ? undefined : opts.appSecret ?? APP_SECRET,
    verifyToken: opts.verifyToken === null ? undefined : opts.verifyToken ?? VERIFY_TOKEN,
    waitUntil: background.waitUntil,
    adapters: { messenger: adapter("messenger"), instagram: adapter("instagram") },
    onInbound: async (i) => {
      inbound.push(i);
      await opts.onInbound?.(i);
    },
  };
  return {
    handler: createMetaWebhookHandler(deps),
    inbound,
    log,
    settled: background.settled,
    events: () => log.lines.map((l) => String(l.event)),
  };
}
