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
import { secretKeyAuth } from "../support/auth.ts";

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
  | "tenants/check";

export interface Case {
  endpoint: Endpoint;
  body: unknown;
  /** Twilio only: the StatusCallback query. */
  query?: string;
}

let uid = 0;
const fresh = () =>
  `${Date.now().toString(36)}${(++uid).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const phoneDigits = () => `2507${String(80_000_000 + Math.floor(Math.random() * 9_999_999))}`;

/** Templates, each built fresh (unique ids, new people) when a case is drawn. */
function templates(sessionId: string): Record<string, () => Case> {
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
  };
}

export interface Stack {
  db: TestDatabase;
  wa: FakeWhatsApp;
  mtn: FakeMtn;
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
  const [database, wa, mtn] = await Promise.all([
    db ?? createTestDatabase(),
    startFakeWhatsApp(),
    startFakeMtn(),
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
    };
  })();
  const [{ session_id: sessionId }] = await database.sql`
    select session_id from public.get_or_create_omnichannel_session('+250788000111', 'voice')`;
  const tpl = templates(sessionId);

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
    names: Object.keys(tpl),
    build: (name) => tpl[name](),
    send,
    unexpected,
    close: async () => {
      await Promise.all([background.settled(), harness.settled()]);
      await Promise.all([wa.close(), mtn.close(), db ? Promise.resolve() : database.close()]);
    },
  };
}

/** The request a provider (or the service role) would send for a case, correctly signed. */
export function requestOf(c: Case): Request {
  const url = `${RUNTIME}/${c.endpoint}${c.query ?? ""}`;
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
  const raw = JSON.stringify(c.body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (c.endpoint === "wa-webhook") headers["x-hub-signature-256"] = metaSign(raw);
  else if (c.endpoint.includes("mtn")) headers["x-mtn-signature"] = mtnSignature(raw);
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
