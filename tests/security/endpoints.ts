/**
 * Every endpoint of the stack, in-process on one database, with validly signed requests built
 * from realistic templates whose string fields a fuzzer may replace with hostile unicode (NUL,
 * lone surrogates, control characters, emoji, very long text). Shared by the property test, the
 * in-suite fuzz test and `npm run fuzz`. Providers are local fakes speaking their wire formats.
 */
import fc from "fast-check";
import { createHarness, fixture, fixtureNames, sign as metaSign } from "../wa-webhook/harness.ts";
import { MTN_SECRET, mtnSignature, TWILIO_TOKEN, twilioSignature } from "../sms-inbound/signing.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  type FakeMtn,
  type FakeWhatsApp,
  startFakeMtn,
  startFakeWhatsApp,
} from "../support/fake-providers.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { createSmsInboundHandler } from "../../supabase/functions/_shared/sms-inbound/handler.ts";
import { createMessagingToolsHandler } from "../../supabase/functions/_shared/messaging-tools/handler.ts";
import { createPostCallNotifyHandler } from "../../supabase/functions/_shared/post-call-notify/handler.ts";
import { createDispatchHandler } from "../../supabase/functions/_shared/dispatch/handler.ts";
import { createTenantsHandler } from "../../supabase/functions/_shared/tenants/handler.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { drainInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { secretKeyAuth } from "../support/auth.ts";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type FakeMeta,
  type FakeResend,
  startFakeMeta,
  startFakeResend,
} from "../support/fake-providers.ts";
import { APP_SECRET as META_APP_SECRET, sign as metaAppSign } from "../meta-webhook/harness.ts";
import { createMetaWebhookHandler } from "../../supabase/functions/_shared/meta-webhook/handler.ts";
import { createMetaAdapter } from "../../supabase/functions/_shared/channels/meta.ts";
import { createEmailInboundHandler } from "../../supabase/functions/_shared/email-inbound/handler.ts";
import { signResendWebhook } from "../../supabase/functions/_shared/email-inbound/verify.ts";
import { createResendAdapter } from "../../supabase/functions/_shared/channels/email-resend.ts";
import { createEmailUnsubscribeHandler } from "../../supabase/functions/_shared/email-unsubscribe/handler.ts";
import { unsubscribeToken } from "../../supabase/functions/_shared/email/unsubscribe.ts";
import { createMessagesHandler } from "../../supabase/functions/_shared/messages/handler.ts";
import { templatesOf } from "../../supabase/functions/_shared/messages/templates.ts";

const SECRET_KEY = "sb_secret_for_fuzz_0123456789abcdef";
const PUBLIC = "https://fuzz.example/functions/v1";
const RUNTIME = "http://127.0.0.1:9000";

/** What Postgres and parsers find hard, and what people really send. */
const UNITS = [
  "\u0000",
  "\ud800",
  "\udfff",
  "\u0001",
  "\u007f",
  "\u200b",
  "\ufeff",
  "😀",
  "é",
  "\n",
  "\t",
  " ",
  "+",
  "2",
  "5",
  "a",
  "Z",
  "%",
  "\\",
  '"',
  "'",
  ";",
  "<",
];
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "\u0000",
    "\ud800",
    "\udc00",
    "",
    " ",
    "\u0000\u0000",
    "a\ud800b",
    "STOP\u0000",
    "x".repeat(5000),
  ),
  // Names that look up something on Object.prototype when used as a key.
  fc.constantFrom("toString", "__proto__", "constructor", "valueOf", "hasOwnProperty"),
  fc.string({ unit: fc.constantFrom(...UNITS), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

/** Each string of `value` kept (mostly) or replaced by a hostile one; structure kept. */
export function fuzzStrings(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value === "string") {
    return fc.oneof({ arbitrary: fc.constant(value), weight: 3 }, {
      arbitrary: hostileString,
      weight: 1,
    });
  }
  if (Array.isArray(value)) return fc.tuple(...value.map(fuzzStrings));
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => fc.tuple(fuzzKey(k), fuzzStrings(v)));
    return fc.tuple(...entries).map((kv) => Object.fromEntries(kv));
  }
  return fc.constant(value);
}

/** Keys stay as they are except in free-form maps (a session's context), marked with a `$`. */
function fuzzKey(key: string): fc.Arbitrary<string> {
  return key.startsWith("$")
    ? fc.oneof(fc.constant(key.slice(1)), hostileString)
    : fc.constant(key);
}

export type Endpoint =
  | "wa-webhook"
  | "sms-inbound/mtn"
  | "sms-inbound/status/mtn"
  | "sms-inbound/twilio"
  | "sms-inbound/status/twilio"
  | "messaging-tools"
  | "post-call-notify"
  | "dispatch"
  | "tenants"
  | "tenants/check"
  | "meta-webhook"
  | "email-inbound"
  | "email-unsubscribe"
  | "messages";

export interface Case {
  endpoint: Endpoint;
  body: unknown;
  /** Twilio only: the StatusCallback query. */
  query?: string;
  /** messages: the route below the function and its method (POST when unset). */
  path?: string;
  method?: "GET" | "POST";
}

const RESEND_SECRET = "whsec_" + btoa("fuzz-resend-webhook-secret");
const UNSUBSCRIBE_SECRET = "fuzz-unsubscribe-secret-0123456789abcdef";
/** Addresses hard to store and compare, each behind a validly signed unsubscribe link. */
const UNSUBSCRIBE_ADDRESSES = [
  "ada@example.com",
  "A.Da+tag@Example.COM",
  "élodie@exämple.fr",
  "nul\u0000@example.com",
  "lone\ud800@example.com",
  "😀@example.com",
  `${"x".repeat(300)}@example.com`,
  "",
];
const META_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/meta");
/** Messenger and Instagram webhooks as Meta sends them (tests/fixtures/meta/{messenger,instagram}). */
const metaFixtures = ["messenger", "instagram"].flatMap((dir) =>
  readdirSync(join(META_FIXTURES, dir)).filter((f) => f.endsWith(".json")).map((f) => ({
    name: `${dir}/${f.slice(0, -5)}`,
    raw: readFileSync(join(META_FIXTURES, dir, f), "utf8"),
  }))
);

let uid = 0;
const fresh = () =>
  `${Date.now().toString(36)}${(++uid).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const phoneDigits = () => `2507${String(80_000_000 + Math.floor(Math.random() * 9_999_999))}`;

/** Templates, each built fresh (unique ids, new people) when a case is drawn. */
function templates(
  sessionId: string,
  resend: FakeResend,
  tokens: string[],
): Record<string, () => Case> {
  const wa = fixtureNames().map((
    name,
  ) => [`wa:${name}`, () => ({ endpoint: "wa-webhook" as const, body: fixture(name) })]);
  const tools = (name: string, args: Record<string, unknown>) => ({
    endpoint: "messaging-tools" as const,
    body: { name, arguments: args },
  });
  return {
    ...Object.fromEntries(wa),
    "wa:batch": () => {
      const from = phoneDigits();
      const msg = (body: string) => ({
        from,
        id: `wamid.${fresh()}`,
        timestamp: "1700000000",
        type: "text",
        text: { body },
      });
      return {
        endpoint: "wa-webhook",
        body: {
          object: "whatsapp_business_account",
          entry: [{
            id: "102290129340398",
            changes: [{
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: {
                  display_phone_number: "15550783881",
                  phone_number_id: "106540352242922",
                },
                contacts: [{ profile: { name: "Ann" }, wa_id: from }],
                messages: [msg("first"), msg("second")],
                statuses: [{
                  id: `wamid.${fresh()}`,
                  status: "delivered",
                  timestamp: "1700000000",
                  recipient_id: from,
                  biz_opaque_callback_data: crypto.randomUUID(),
                }],
              },
            }],
          }],
        },
      };
    },
    "mtn:inbound": () => ({
      endpoint: "sms-inbound/mtn",
      body: { from: `+${phoneDigits()}`, to: "ACME", message: "hello there", id: `mo-${fresh()}` },
    }),
    "mtn:receipt": () => ({
      endpoint: "sms-inbound/status/mtn",
      body: {
        requestId: `req-${fresh()}`,
        transactionId: `tx-${fresh()}`,
        clientCorrelatorId: crypto.randomUUID(),
        deliveryStatus: "DeliveryImpossible",
        errorCode: "E42",
        errorMessage: "Unreachable",
        receiverAddress: phoneDigits(),
      },
    }),
    "twilio:inbound": () => ({
      endpoint: "sms-inbound/twilio",
      body: {
        MessageSid: `SM${fresh().padEnd(32, "0").slice(0, 32)}`,
        From: `+${phoneDigits()}`,
        To: "+15005550006",
        Body: "hello",
        NumMedia: "0",
        NumSegments: "1",
        OptOutType: "STOP",
        AccountSid: "AC00000000000000000000000000000001",
      },
    }),
    "twilio:status": () => ({
      endpoint: "sms-inbound/status/twilio",
      query: `?delivery_id=${crypto.randomUUID()}`,
      body: {
        MessageSid: `SM${fresh().padEnd(32, "0").slice(0, 32)}`,
        MessageStatus: "undelivered",
        ErrorCode: "30003",
        ErrorMessage: "Unreachable",
      },
    }),
    "tool:sms": () =>
      tools("messaging_send_sms", {
        phone_number: `+${phoneDigits()}`,
        message: "Your price is 250k",
      }),
    "tool:whatsapp": () =>
      tools("messaging_send_whatsapp", {
        phone_number: `+${phoneDigits()}`,
        message: "Hello *there*",
      }),
    "tool:dual": () =>
      tools("messaging_send_dual_channel", {
        phone_number: `+${phoneDigits()}`,
        whatsapp_message: "Hi",
        sms_message: "Hi",
      }),
    "tool:session": () =>
      tools("session_get_or_create", {
        phone_number: `+${phoneDigits()}`,
        channel: "voice",
        call_id: `call-${fresh()}`,
        context: { $topic: "price" },
      }),
    "tool:status": () =>
      tools("session_update_status", { session_id: sessionId, status: "follow_up" }),
    "tool:context": () =>
      tools("session_add_context", { session_id: sessionId, key: "note", value: "call back" }),
    "tool:get": () => tools("session_get_context", { session_id: sessionId }),
    "tool:call": () => ({
      endpoint: "messaging-tools",
      body: {
        id: `call_${fresh()}`,
        type: "function",
        function: {
          name: "session_add_context",
          arguments: JSON.stringify({ session_id: sessionId, key: "k", value: "v" }),
        },
      },
    }),
    "post-call": () => ({
      endpoint: "post-call-notify",
      body: {
        call_id: `call-${fresh()}`,
        phone_number: `+${phoneDigits()}`,
        summary: "We agreed on 250k.",
      },
    }),
    "dispatch": () => ({
      endpoint: "dispatch",
      body: { batch_size: 5, time_budget_ms: 200, replies: false },
    }),
    "tenant:create": () => ({
      endpoint: "tenants",
      body: { slug: `t-${fresh()}`, name: "Fuzz Co" },
    }),
    // Checked live against the fake WhatsApp (its phone-number lookup).
    "tenant:check": () => ({
      endpoint: "tenants/check",
      body: {
        kind: "whatsapp",
        phone_number_id: "106540352242922",
        credentials: { access_token: "wa-test-token", app_secret: "fuzz-app-secret" },
      },
    }),
    ...Object.fromEntries(metaFixtures.map(({ name, raw }) => [
      `meta:${name}`,
      // A fresh message id each time, so redelivery dedupe does not hide the handler.
      () => ({
        endpoint: "meta-webhook" as const,
        body: JSON.parse(raw.replaceAll(/"m_[^"]*"/g, `"m_${fresh()}"`)),
      }),
    ])),
    "email:received": () => {
      const id = `in-${fresh()}`;
      const from = `Ann <ann.${fresh()}@example.com>`;
      resend.inbox.set(id, {
        id,
        from,
        to: ["support@acme.test"],
        subject: "Re: Your order",
        text: "Where is my parcel?\n\nOn Mon, Acme wrote:\n> It ships today.",
        html: null,
        message_id: `<${id}@mail.example.com>`,
        headers: { references: "<first@acme.test>" },
      });
      return {
        endpoint: "email-inbound",
        body: {
          type: "email.received",
          created_at: new Date().toISOString(),
          data: {
            email_id: id,
            created_at: new Date().toISOString(),
            from,
            to: ["support@acme.test"],
            message_id: `<${id}@mail.example.com>`,
            subject: "Re: Your order",
            attachments: [],
          },
        },
      };
    },
    "email:bounced": () => ({
      endpoint: "email-inbound",
      body: {
        type: "email.bounced",
        created_at: new Date().toISOString(),
        data: {
          email_id: crypto.randomUUID(),
          created_at: new Date().toISOString(),
          from: "Acme <support@acme.test>",
          to: [`bob.${fresh()}@example.com`],
          subject: "Your order",
          bounce: { type: "Permanent", subType: "General", message: "No such user" },
        },
      },
    }),
    "email:unsubscribe": () => ({
      endpoint: "email-unsubscribe",
      body: { token: tokens[Math.floor(Math.random() * tokens.length)] },
    }),
    "api:send": () => ({
      endpoint: "messages",
      body: {
        to: { phone: `+${phoneDigits()}` },
        channel: "auto",
        text: "Your order has shipped",
        idempotency_key: `fuzz-${fresh()}`,
        metadata: { $order: "A-1" },
      },
    }),
    "api:template": () => ({
      endpoint: "messages",
      body: {
        to: { phone: `+${phoneDigits()}` },
        channel: ["whatsapp", "sms"],
        template: { name: "order_confirmed", locale: "en", params: ["A-1"] },
        idempotency_key: `fuzz-${fresh()}`,
      },
    }),
    "api:notification": () => ({
      endpoint: "messages",
      path: "/notifications/order.shipped",
      body: {
        to: { phone: `+${phoneDigits()}` },
        data: { order_id: "A-1", tracking_url: "https://track.example/A-1" },
        idempotency_key: `fuzz-${fresh()}`,
      },
    }),
    "api:list": () => ({
      endpoint: "messages",
      method: "GET",
      body: { channel: "whatsapp", status: "sent", limit: "5", cursor: "MjAyNnww" },
    }),
    "api:stats": () => ({
      endpoint: "messages",
      method: "GET",
      path: "/stats",
      body: { from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z", channel: "sms" },
    }),
    "api:inbox": () => ({
      endpoint: "messages",
      method: "GET",
      path: "/conversations",
      body: { view: "unassigned", limit: "3", assignee: "agent-1" },
    }),
    "api:assign": () => ({
      endpoint: "messages",
      path: `/conversations/${sessionId}/assign`,
      body: { assignee: "agent-1", priority: "high", tags: ["billing"] },
    }),
    "api:reply": () => ({
      endpoint: "messages",
      path: `/conversations/${sessionId}/reply`,
      body: { text: "On it", idempotency_key: `fuzz-${fresh()}` },
    }),
  };
}

export interface Stack {
  db: TestDatabase;
  wa: FakeWhatsApp;
  mtn: FakeMtn;
  meta: FakeMeta;
  resend: FakeResend;
  /** Template names, for a fuzzer to pick from. */
  names: string[];
  /** A fresh case of a template. */
  build(name: string): Case;
  /** One validly signed request for a case, answered by its handler (background work awaited). */
  send(c: Case): Promise<Response>;
  unexpected(): string[];
  close(): Promise<void>;
}

export async function startStack(db?: TestDatabase): Promise<Stack> {
  const [database, wa, mtn, meta, resend] = await Promise.all([
    db ?? createTestDatabase(),
    startFakeWhatsApp(),
    startFakeMtn(),
    startFakeMeta(),
    startFakeResend(),
  ]);
  const log = memoryLogger();
  const loggers = [log];
  const background = backgroundTracker(() => {});
  const timeoutMs = 2_000;
  const config = {
    summaryTemplate: "call_summary",
    templateLanguage: "en",
    summaryWaitMs: 0,
    summaryPollMs: 10,
    sendTimeoutMs: 3_000,
  };
  const env = loadConfig({
    SUPABASE_DB_URL: database.url,
    WHATSAPP_API_BASE_URL: wa.baseUrl,
    WHATSAPP_ACCESS_TOKEN: wa.accessToken,
    WHATSAPP_PHONE_NUMBER_ID: wa.phoneNumberId,
    MTN_SMS_API_BASE_URL: mtn.baseUrl,
    MTN_SMS_API_KEY: mtn.apiKey,
    MTN_SMS_API_SECRET: mtn.apiSecret,
    MTN_SMS_SENDER_ID: mtn.senderId,
    META_GRAPH_BASE_URL: meta.baseUrl,
    MESSENGER_PAGE_ACCESS_TOKEN: meta.pageToken,
    INSTAGRAM_ACCESS_TOKEN: meta.instagramToken,
    RESEND_API_BASE_URL: resend.baseUrl,
    RESEND_API_KEY: resend.apiKey,
    EMAIL_FROM: "Acme Support <support@acme.test>",
  });
  // wa-webhook's inbox worker runs in the harness's background: send() waits for it too.
  const harness = createHarness({ db: database, wa, mtn, sql: database.sql });
  const handlers: Record<Endpoint, (req: Request) => Promise<Response>> = (() => {
    loggers.push(harness.log);
    const waHandler = harness.handler;
    const outbound = {
      sql: database.sql,
      logger: log,
      senders: createSenderDirectory(env, { timeoutMs }),
      pacer: createPacer(database.sql),
    };
    const smsHandler = createSmsInboundHandler({
      ...outbound,
      defaultCountry: "RW",
      waitUntil: background.waitUntil,
      onInbound: () => Promise.resolve(),
      // The inbox worker derives what the webhook accepted (no replies here).
      onAccepted: async () =>
        void await drainInbox({
          sql: database.sql,
          logger: log,
          onInbound: () => Promise.resolve(),
        }),
      webhook: { mtnSecret: MTN_SECRET, twilioAuthToken: TWILIO_TOKEN, publicFunctionsUrl: PUBLIC },
    });
    return {
      "wa-webhook": waHandler,
      "sms-inbound/mtn": smsHandler,
      "sms-inbound/status/mtn": smsHandler,
      "sms-inbound/twilio": smsHandler,
      "sms-inbound/status/twilio": smsHandler,
      "messaging-tools": createMessagingToolsHandler({
        ...outbound,
        auth: secretKeyAuth("messaging-tools", SECRET_KEY),
      }),
      "post-call-notify": createPostCallNotifyHandler({
        ...outbound,
        auth: secretKeyAuth("post-call-notify", SECRET_KEY),
        defaultCountry: "RW",
        config,
      }),
      "dispatch": createDispatchHandler({
        sql: database.sql,
        logger: log,
        senders: createSenderDirectory(env, { timeoutMs }),
        pacer: createPacer(database.sql),
        auth: secretKeyAuth("dispatch", SECRET_KEY),
        defaults: { batchSize: 20, timeBudgetMs: 500, leaseSeconds: 60 },
      }),
      ...(() => {
        const tenants = createTenantsHandler({
          sql: database.sql,
          logger: log,
          auth: secretKeyAuth("tenants", SECRET_KEY),
          checks: {
            whatsappApiBaseUrl: wa.baseUrl,
            metaGraphBaseUrl: wa.baseUrl,
            genesysLoginBaseUrl: wa.baseUrl,
            timeoutMs,
            fetch,
          },
        });
        return { "tenants": tenants, "tenants/check": tenants };
      })(),
      "meta-webhook": createMetaWebhookHandler({
        sql: database.sql,
        logger: log,
        appSecret: META_APP_SECRET,
        verifyToken: "fuzz-verify-token",
        waitUntil: background.waitUntil,
        adapters: {
          messenger: createMetaAdapter({
            channel: "messenger",
            baseUrl: meta.baseUrl,
            accessToken: meta.pageToken,
          }, { timeoutMs }),
          instagram: createMetaAdapter({
            channel: "instagram",
            baseUrl: meta.baseUrl,
            accessToken: meta.instagramToken,
          }, { timeoutMs }),
        },
        onInbound: () => Promise.resolve(),
      }),
      "email-inbound": createEmailInboundHandler({
        ...outbound,
        email: createResendAdapter({
          baseUrl: resend.baseUrl,
          apiKey: resend.apiKey,
          from: "Acme Support <support@acme.test>",
        }),
        webhookSecret: RESEND_SECRET,
        waitUntil: background.waitUntil,
        onInbound: () => Promise.resolve(),
      }),
      "email-unsubscribe": createEmailUnsubscribeHandler({
        sql: database.sql,
        logger: log,
        secret: UNSUBSCRIBE_SECRET,
      }),
      "messages": createMessagesHandler({
        ...outbound,
        auth: secretKeyAuth("messages", SECRET_KEY),
        templates: templatesOf(database.sql),
        defaultCountry: "RW",
        ratePerMinute: 1_000_000,
        readsPerMinute: 1_000_000,
        waitUntil: background.waitUntil,
        postCall: config,
        listWhatsAppTemplates: () => Promise.resolve({ ok: true as const, templates: [] }),
        media: { store: null, fetch, timeoutMs },
      }),
    };
  })();
  const [{ session_id: sessionId }] = await database.sql`
    select session_id from public.get_or_create_omnichannel_session('+250788000111', 'voice')`;
  const tokens = await Promise.all(
    UNSUBSCRIBE_ADDRESSES.map((a) => unsubscribeToken(UNSUBSCRIBE_SECRET, a)),
  );
  const tpl = templates(sessionId, resend, tokens);

  async function send(c: Case): Promise<Response> {
    const res = await handlers[c.endpoint](requestOf(c));
    await res.arrayBuffer();
    await Promise.all([background.settled(), harness.settled()]);
    return res;
  }

  /** The unexpected errors logged since the last call (what a 5xx was), and a fresh log. */
  function unexpected(): string[] {
    const out = loggers.flatMap((l) =>
      l.lines.filter((x) => x.event === "UNHANDLED_ERROR").map((x) => String(x.error))
    );
    for (const l of loggers) l.lines.length = 0;
    return out;
  }

  return {
    db: database,
    wa,
    mtn,
    meta,
    resend,
    names: Object.keys(tpl),
    build: (name) => tpl[name](),
    send,
    unexpected,
    close: async () => {
      await Promise.all([background.settled(), harness.settled()]);
      await Promise.all([
        wa.close(),
        mtn.close(),
        meta.close(),
        resend.close(),
        db ? Promise.resolve() : database.close(),
      ]);
    },
  };
}

/** The request a provider (or the service role) would send for a case, correctly signed. */
export function requestOf(c: Case): Request {
  const url = `${RUNTIME}/${c.endpoint}${c.path ?? ""}${c.query ?? ""}`;
  if (c.endpoint.includes("twilio")) {
    const form = new URLSearchParams(
      Object.entries(c.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
    const body = form.toString();
    const signature = twilioSignature(`${PUBLIC}/${c.endpoint}${c.query ?? ""}`, [
      ...new URLSearchParams(body),
    ]);
    return new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
      },
      body,
    });
  }
  if (c.endpoint === "email-unsubscribe") {
    // The signed link is the authentication; the body is the mail client's one-click form.
    const token = String((c.body as { token?: unknown }).token);
    // URLSearchParams, not encodeURIComponent: a URL carries a lone surrogate as U+FFFD.
    return new Request(`${url}?${new URLSearchParams({ token })}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
  }
  if (c.method === "GET") {
    const query = new URLSearchParams(
      Object.entries(c.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
    return new Request(`${url}?${query}`, { headers: { apikey: SECRET_KEY } });
  }
  const raw = JSON.stringify(c.body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (c.endpoint === "wa-webhook") headers["x-hub-signature-256"] = metaSign(raw);
  else if (c.endpoint === "meta-webhook") headers["x-hub-signature-256"] = metaAppSign(raw);
  else if (c.endpoint === "email-inbound") {
    Object.assign(headers, signResendWebhook(RESEND_SECRET, `msg_${fresh()}`, new Date(), raw));
  } else if (c.endpoint.includes("mtn")) headers["x-mtn-signature"] = mtnSignature(raw);
  else headers.apikey = SECRET_KEY;
  return new Request(url, { method: "POST", headers, body: raw });
}

/** A case of a random template with its strings fuzzed. */
export function caseArbitrary(stack: Stack): fc.Arbitrary<Case> {
  return fc.constantFrom(...stack.names).chain((name) => {
    const c = stack.build(name);
    return fuzzStrings(c.body).map((body) => ({ ...c, body }));
  });
}
