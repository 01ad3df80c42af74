import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeTwilio,
  refusedUrl,
  startFakeTwilio,
  twilioError,
} from "../../../../tests/support/fake-providers.ts";
import { createTwilioSmsAdapter, type TwilioSmsConfig } from "./sms-twilio.ts";
import type { SendResult } from "../outbound/adapter.ts";

let fake: FakeTwilio;
beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const adapter = (over: Partial<TwilioSmsConfig> = {}, timeoutMs?: number) =>
  createTwilioSmsAdapter(
    {
      baseUrl: fake.baseUrl,
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: "+15005550006",
      ...over,
    },
    { timeoutMs },
  );

const failureOf = (r: SendResult) => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("Twilio SMS adapter: requests", () => {
  it("sends a file as MMS: MediaUrl beside the text", async () => {
    await adapter().send("+15005550009", "Your receipt https://files.example/r.png", {
      mediaUrl: "https://files.example/r.png",
    });
    expect(fake.requests[0].form).toMatchObject({
      Body: "Your receipt https://files.example/r.png",
      MediaUrl: "https://files.example/r.png",
    });
  });

  it("posts the Messages API form with Basic auth and returns the message sid", async () => {
    const result = await adapter().send("+250788123456", "Résumé: 1 & 2 = 3?", {
      statusCallbackUrl: "https://fn.example/functions/v1/sms-inbound",
    });

    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64")}`,
    );
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(req.form).toEqual({
      To: "+250788123456",
      From: "+15005550006",
      Body: "Résumé: 1 & 2 = 3?",
      StatusCallback: "https://fn.example/functions/v1/sms-inbound",
    });
    expect(result).toEqual({
      ok: true,
      provider: "twilio",
      providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/),
    });
  });

  it("sends through a Messaging Service when `from` is an MG sid", async () => {
    await adapter({ from: "MG00000000000000000000000000000009" }).send("250788123456", "hi");
    expect(fake.requests[0].form).toEqual({
      To: "+250788123456",
      MessagingServiceSid: "MG00000000000000000000000000000009",
      Body: "hi",
    });
  });

  it("fails closed without credentials, before any HTTP call", async () => {
    const error = failureOf(await adapter({ authToken: undefined }).send("+250788123456", "hi"));
    expect(error).toMatchObject({ class: "permanent", code: "CHANNEL.NOT_CONFIGURED" });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("Twilio SMS adapter: error classes from Twilio's error bodies", () => {
  const cases: Array<[string, ReturnType<typeof twilioError>, object]> = [
    [
      "21211 invalid number",
      twilioError(21211, "Invalid 'To' Phone Number: +25078812XXXX"),
      { class: "permanent", code: "21211", httpStatus: 400 },
    ],
    [
      "21614 not a mobile number",
      twilioError(21614, "'To' number is not a valid mobile number"),
      { class: "permanent", code: "21614" },
    ],
    [
      "21610 opted out",
      twilioError(21610, "Attempt to send to unsubscribed recipient"),
      { class: "permanent", code: "21610" },
    ],
    ["20429 too many requests", twilioError(20429, "Too Many Requests", 429), {
      class: "retryable",
      code: "20429",
    }],
    ["20500 internal error", twilioError(20500, "Internal Server Error", 500), {
      class: "retryable",
      code: "20500",
    }],
  ];

  it.each(cases)("%s", async (_name, reply, expected) => {
    fake.replyNext(reply);
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject(expected);
  });

  it("a wrong auth token is a permanent 20003", async () => {
    const error = failureOf(await adapter({ authToken: "wrong" }).send("+250788123456", "hi"));
    expect(error).toEqual({
      class: "permanent",
      code: "20003",
      message: "Authenticate",
      httpStatus: 401,
    });
  });

  it("carries Retry-After on a rate limit", async () => {
    fake.replyNext({
      ...twilioError(20429, "Too Many Requests", 429),
      headers: { "retry-after": "2" },
    });
    expect(failureOf(await adapter().send("+250788123456", "hi")).retryAfterMs).toBe(2000);
  });

  it("a malformed success body is a failure, not a crash", async () => {
    fake.replyNext({ status: 201, body: { status: "queued" } });
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject({
      class: "permanent",
      code: "INVALID_RESPONSE",
    });
  });

  it("a provider that does not answer in time is a retryable TIMEOUT", async () => {
    fake.replyNext({ status: 201, body: {}, delayMs: 2_000 });
    expect(failureOf(await adapter({}, 150).send("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "TIMEOUT",
    });
  });

  it("a refused connection is a retryable NETWORK failure", async () => {
    expect(failureOf(await adapter({ baseUrl: await refusedUrl() }).send("+250788123456", "hi")))
      .toMatchObject({ class: "retryable", code: "NETWORK" });
  });
});
