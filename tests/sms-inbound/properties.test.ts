import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Env, makeHandler, mtnRequest, startEnv, twilioRequest } from "./harness.ts";

/**
 * Whatever a provider (or someone holding its secret) posts, correctly signed, the webhook
 * answers 200 or 400 — never a 5xx the provider would retry for days, never an unhandled
 * rejection — and its background work finishes without an error.
 */

let env: Env;

beforeAll(async () => {
  env = await startEnv();
});
afterAll(() => env?.close());

const RUNS = 60;

const keyword = fc.constantFrom(
  "STOP",
  "stop",
  " Start ",
  "HELP",
  "yes",
  "UNSUBSCRIBE",
  "STOP\u0000",
  "",
);
// What Postgres and the parsers find hard: NUL and control characters, lone surrogates, emoji.
const tricky = fc.string({
  unit: fc.constantFrom(
    "\u0000",
    "\u0001",
    "\ud800",
    "😀",
    "é",
    "\n",
    " ",
    "S",
    "T",
    "O",
    "P",
    "a",
  ),
  maxLength: 20,
});
const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), tricky, keyword);
const phoneLike = fc.oneof(
  fc.stringMatching(/^\+[1-9]\d{7,14}$/),
  fc.stringMatching(/^2507[2389]\d{7}$/),
  fc.stringMatching(/^07[2389]\d{7}$/),
  fc.constantFrom("tel:+250788123456", "MTN", "whatsapp:+14158675309", "+0", ""),
);
const phone = fc.oneof(phoneLike, fc.string(), fc.integer(), fc.double());
const id = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.double(), fc.constant(null));

const mtnInbound = fc.record(
  { from: phone, to: phone, message: fc.oneof(text, fc.integer()), id },
  { requiredKeys: [] },
);
const mtnReceipt = fc.record(
  {
    requestId: id,
    transactionId: id,
    deliveryStatus: fc.oneof(
      fc.constantFrom(
        "DeliveredToTerminal",
        "DeliveryImpossible",
        "MessageWaiting",
        "deliveredtonetwork",
      ),
      fc.string(),
    ),
    errorCode: id,
    errorMessage: text,
  },
  { requiredKeys: [] },
);
// A well-formed message with random field values, so most runs reach the database.
const mtnMessage = fc.record({
  from: phoneLike,
  message: text,
  id: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
});
const mtnBody = fc.oneof(
  { arbitrary: mtnMessage.map((o) => JSON.stringify(o)), weight: 4 },
  mtnInbound.map((o) => JSON.stringify(o)),
  mtnReceipt.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 256 }),
);

const twilioName = fc.oneof(
  fc.constantFrom(
    "MessageSid",
    "SmsSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "ErrorMessage",
    "NumSegments",
    "AccountSid",
    "OptOutType",
  ),
  fc.string(),
);
const twilioValue = fc.oneof(
  text,
  phoneLike,
  fc.stringMatching(/^(SM|MM)[0-9a-f]{32}$/),
  fc.constantFrom("0", "1", "11", "-1", "1e400", "image/jpeg", "delivered", "undelivered", "30003"),
);
const twilioForm = fc.oneof(
  fc.array(fc.tuple(twilioName, twilioValue), { maxLength: 12 }),
  fc.record({
    MessageSid: fc.stringMatching(/^SM[0-9a-f]{32}$/),
    From: phoneLike,
    Body: text,
    NumMedia: fc.constantFrom("0", "1", "2"),
    MediaUrl0: fc.webUrl(),
    MediaContentType0: fc.constantFrom("image/png", "audio/ogg", "text/vcard", ""),
  }).map((o) => Object.entries(o) as Array<[string, string]>),
  fc.record({
    MessageSid: fc.stringMatching(/^SM[0-9a-f]{32}$/),
    MessageStatus: fc.oneof(
      fc.constantFrom("sent", "delivered", "undelivered", "failed", "read", "canceled"),
      fc.string(),
    ),
    ErrorCode: fc.oneof(fc.constantFrom("30003", "30007", ""), fc.string()),
  }).map((o) => Object.entries(o) as Array<[string, string]>),
);

function expectOnlyCalmAnswers(statuses: number[], log: { lines: Record<string, unknown>[] }) {
  expect(statuses.filter((s) => s !== 200 && s !== 400)).toEqual([]);
  const errors = log.lines.filter((l) => l.level === "error").map((l) => l.event);
  expect(errors).toEqual([]);
}

describe("sms-inbound under random signed payloads", () => {
  it("MTN-style JSON, inbound and receipts: only 200 or 400", async () => {
    const h = makeHandler(env);
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(
        mtnBody,
        fc.constantFrom("/mtn", "", "/status", "/status/mtn"),
        async (body, path) => {
          const res = await h.handler(mtnRequest(body, { path }));
          await res.arrayBuffer();
          statuses.push(res.status);
          return res.status < 500;
        },
      ),
      { numRuns: RUNS * 2 },
    );
    await h.settled();
    expectOnlyCalmAnswers(statuses, h.log);
    expect(statuses).toContain(200);
  });

  it("Twilio forms, inbound and status callbacks: only 200 or 400", async () => {
    const h = makeHandler(env);
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(
        twilioForm,
        fc.constantFrom("/twilio", "", "/status", "/status/twilio"),
        async (params, path) => {
          const res = await h.handler(twilioRequest(params, { path }));
          await res.arrayBuffer();
          statuses.push(res.status);
          return res.status < 500;
        },
      ),
      { numRuns: RUNS * 2 },
    );
    await h.settled();
    expectOnlyCalmAnswers(statuses, h.log);
    expect(statuses).toContain(200);
  });

  it("random bytes as a Twilio form body: 400, never a crash", async () => {
    const h = makeHandler(env);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        const params = [...new URLSearchParams(new TextDecoder().decode(bytes))];
        const req = twilioRequest(params);
        const res = await h.handler(
          new Request(req.url, { method: "POST", headers: req.headers, body: bytes }),
        );
        await res.arrayBuffer();
        return res.status < 500;
      }),
      { numRuns: RUNS },
    );
    await h.settled();
    expectOnlyCalmAnswers([], h.log);
  });
});
