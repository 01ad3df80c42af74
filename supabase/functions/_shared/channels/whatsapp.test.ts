import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeWhatsApp,
  refusedUrl,
  startFakeWhatsApp,
  whatsappError,
} from "../../../../tests/support/fake-providers.ts";
import { loadConfig } from "../config.ts";
import { createWhatsAppAdapter } from "./whatsapp.ts";
import { createSenderDirectory } from "../outbound/senders.ts";
import type { SendResult } from "../outbound/adapter.ts";

let fake: FakeWhatsApp;
beforeAll(async () => {
  fake = await startFakeWhatsApp();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const adapter = (over: { accessToken?: string; timeoutMs?: number } = {}) =>
  createWhatsAppAdapter(
    {
      baseUrl: fake.baseUrl,
      accessToken: "accessToken" in over ? over.accessToken : fake.accessToken,
      phoneNumberId: fake.phoneNumberId,
    },
    { timeoutMs: over.timeoutMs },
  );

const failureOf = (r: SendResult) => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("WhatsApp adapter: requests", () => {
  it("sends a text message in the Cloud API format and returns the wamid", async () => {
    const result = await adapter().sendText("+250788123456", "Hello *there*");

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/v21.0/${fake.phoneNumberId}/messages`);
    expect(req.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "250788123456",
      type: "text",
      text: { body: "Hello *there*", preview_url: false },
    });
    expect(result).toEqual({
      ok: true,
      provider: "whatsapp",
      providerMessageId: expect.stringMatching(/^wamid\./),
    });
  });

  it("passes link previews and the message replied to", async () => {
    await adapter().sendText("250788123456", "See https://example.org", {
      previewUrl: true,
      replyTo: "wamid.ABC",
    });
    expect(fake.requests[0].json).toMatchObject({
      to: "250788123456",
      context: { message_id: "wamid.ABC" },
      text: { body: "See https://example.org", preview_url: true },
    });
  });

  it("sends a template with body parameters, made safe for Meta's rules", async () => {
    const result = await adapter().sendTemplate("+250788123456", {
      name: "call_summary",
      language: "en",
      bodyParameters: ["line one\nline two\tand     five spaces", "Alice"],
    });

    expect(result.ok).toBe(true);
    expect(fake.requests[0].json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "250788123456",
      type: "template",
      template: {
        name: "call_summary",
        language: { code: "en" },
        components: [{
          type: "body",
          parameters: [
            { type: "text", text: "line one line two and five spaces" },
            { type: "text", text: "Alice" },
          ],
        }],
      },
    });
  });

  it("sends a template without parameters without a components list", async () => {
    await adapter().sendTemplate("+250788123456", {
      name: "hello_world",
      language: "en_US",
      bodyParameters: [],
    });
    expect(fake.requests[0].json).toMatchObject({
      type: "template",
      template: { name: "hello_world", language: { code: "en_US" } },
    });
    expect((fake.requests[0].json as { template: object }).template).not.toHaveProperty(
      "components",
    );
  });

  it("fails closed without credentials, before any HTTP call", async () => {
    const result = await adapter({ accessToken: undefined }).sendText("+250788123456", "hi");
    expect(failureOf(result)).toMatchObject({ class: "permanent", code: "CHANNEL.NOT_CONFIGURED" });
    expect(failureOf(result).message).toContain("accessToken");
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a recipient that is not an E.164 number, before any HTTP call", async () => {
    const result = await adapter().sendText("0788 123 456", "hi");
    expect(failureOf(result)).toMatchObject({ class: "permanent", code: "INVALID_RECIPIENT" });
    expect(fake.requests).toHaveLength(0);
  });

  it("is built from the environment (the sender directory)", async () => {
    const env = loadConfig({
      SUPABASE_DB_URL: "postgres://localhost/db",
      WHATSAPP_API_BASE_URL: fake.baseUrl,
      WHATSAPP_ACCESS_TOKEN: fake.accessToken,
      WHATSAPP_PHONE_NUMBER_ID: fake.phoneNumberId,
    });
    const sender = createSenderDirectory(env).resolve("whatsapp")!;
    const result = await sender.send({
      id: crypto.randomUUID(),
      channel: "whatsapp",
      recipient: "+250788123456",
      body: "hi",
      message_type: "text",
      metadata: null,
      sender_key: null,
    });
    expect(result.ok).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("WhatsApp adapter: error classes from Meta's error bodies", () => {
  const cases: Array<[string, ReturnType<typeof whatsappError>, object]> = [
    [
      "131026 not on WhatsApp",
      whatsappError(131026, "(#131026) Message Undeliverable.", {
        details: "Message Undeliverable.",
      }),
      { class: "permanent", code: "131026", notOnChannel: true, httpStatus: 400 },
    ],
    [
      "131047 outside the 24 h window",
      whatsappError(131047, "(#131047) Re-engagement message", {
        details:
          "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
      }),
      { class: "window_closed", code: "131047" },
    ],
    ["130429 throughput", whatsappError(130429, "(#130429) Rate limit hit"), {
      class: "retryable",
      code: "130429",
    }],
    [
      "131056 pair rate limit",
      whatsappError(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
      { class: "retryable", code: "131056" },
    ],
    [
      "131000 something went wrong",
      whatsappError(131000, "(#131000) Something went wrong", { status: 500 }),
      { class: "retryable", code: "131000", httpStatus: 500 },
    ],
    [
      "131016 service unavailable",
      whatsappError(131016, "(#131016) Service unavailable", { status: 503 }),
      { class: "retryable", code: "131016" },
    ],
    ["4 app throttling", whatsappError(4, "(#4) Application request limit reached"), {
      class: "retryable",
      code: "4",
    }],
    ["80007 WABA throttling", whatsappError(80007, "(#80007) Rate limit issues"), {
      class: "retryable",
      code: "80007",
    }],
    ["100 invalid parameter", whatsappError(100, "(#100) Invalid parameter"), {
      class: "permanent",
      code: "100",
    }],
    [
      "131009 parameter value",
      whatsappError(131009, "(#131009) Parameter value is not valid"),
      { class: "permanent", code: "131009" },
    ],
    [
      "131051 unsupported type",
      whatsappError(131051, "(#131051) Unsupported message type"),
      { class: "permanent", code: "131051" },
    ],
  ];

  it.each(cases)("%s", async (_name, reply, expected) => {
    fake.replyNext(reply);
    const error = failureOf(await adapter().sendText("+250788123456", "hi"));
    expect(error).toMatchObject(expected);
    if (!("notOnChannel" in expected)) expect(error.notOnChannel).toBeUndefined();
  });

  it("keeps Meta's message and details, and nothing else, in the failure", async () => {
    fake.replyNext(whatsappError(131047, "(#131047) Re-engagement message", {
      details: "More than 24 hours have passed since the customer last replied to this number.",
    }));
    const error = failureOf(await adapter().sendText("+250788123456", "hi"));
    expect(error.message).toBe(
      "(#131047) Re-engagement message: More than 24 hours have passed since the customer last replied to this number.",
    );
  });

  it("a wrong access token is a permanent 190", async () => {
    const error = failureOf(
      await adapter({ accessToken: "stale" }).sendText("+250788123456", "hi"),
    );
    expect(error).toMatchObject({ class: "permanent", code: "190", httpStatus: 401 });
  });

  it("carries Retry-After on a rate limit", async () => {
    fake.replyNext({
      ...whatsappError(130429, "(#130429) Rate limit hit", { status: 429 }),
      headers: { "retry-after": "7" },
    });
    const error = failureOf(await adapter().sendText("+250788123456", "hi"));
    expect(error).toMatchObject({
      class: "retryable",
      code: "130429",
      retryAfterMs: 7000,
      throttled: true,
    });
  });

  it("an error page that is not Graph JSON is classified by its HTTP status", async () => {
    fake.replyNext({
      status: 502,
      raw: "<html>Bad Gateway</html>",
      headers: { "content-type": "text/html" },
    });
    expect(failureOf(await adapter().sendText("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "HTTP_502",
      httpStatus: 502,
    });
    fake.replyNext({ status: 404, raw: "" });
    expect(failureOf(await adapter().sendText("+250788123456", "hi"))).toMatchObject({
      class: "permanent",
      code: "HTTP_404",
    });
  });

  it("a malformed success body is a failure, not a crash", async () => {
    fake.replyNext({ status: 200, body: { messaging_product: "whatsapp", messages: [] } });
    expect(failureOf(await adapter().sendText("+250788123456", "hi"))).toMatchObject({
      class: "permanent",
      code: "INVALID_RESPONSE",
      httpStatus: 200,
    });
    fake.replyNext({ status: 200, raw: "OK" });
    expect(failureOf(await adapter().sendText("+250788123456", "hi")).code).toBe(
      "INVALID_RESPONSE",
    );
  });

  it("a provider that does not answer in time is a retryable TIMEOUT", async () => {
    fake.replyNext({ status: 200, body: {}, delayMs: 2_000 });
    // TIMEOUT (not the late 200) shows the request was cut at timeoutMs.
    const error = failureOf(await adapter({ timeoutMs: 150 }).sendText("+250788123456", "hi"));
    expect(error).toMatchObject({ class: "retryable", code: "TIMEOUT" });
  });

  it("a refused connection is a retryable NETWORK failure", async () => {
    const wa = createWhatsAppAdapter({
      baseUrl: await refusedUrl(),
      accessToken: "t",
      phoneNumberId: "1",
    });
    const error = failureOf(await wa.sendText("+250788123456", "hi"));
    expect(error).toMatchObject({ class: "retryable", code: "NETWORK" });
    expect(error.message).toBe("Could not reach the provider (ECONNREFUSED)");
  });

  it("rejects a base URL that is not a URL when it is built", () => {
    expect(() =>
      createWhatsAppAdapter({ baseUrl: "not a url", accessToken: "t", phoneNumberId: "1" })
    )
      .toThrow(TypeError);
  });
});
