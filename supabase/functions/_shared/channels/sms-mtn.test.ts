import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeMtn,
  mtnError,
  refusedUrl,
  startFakeMtn,
} from "../../../../tests/support/fake-providers.ts";
import { createMtnSmsAdapter, type MtnAdapterOptions, type MtnSmsConfig } from "./sms-mtn.ts";
import type { SendResult } from "../outbound/adapter.ts";

let fake: FakeMtn;
beforeAll(async () => {
  fake = await startFakeMtn({ expiresIn: 120 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const adapter = (over: Partial<MtnSmsConfig> = {}, opts: MtnAdapterOptions = {}) =>
  createMtnSmsAdapter(
    {
      baseUrl: fake.baseUrl,
      apiKey: fake.apiKey,
      apiSecret: fake.apiSecret,
      senderId: fake.senderId,
      ...over,
    },
    opts,
  );

const failureOf = (r: SendResult) => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("MTN SMS adapter: requests", () => {
  it("gets a client-credentials token, then sends with it in the SMS v3 format", async () => {
    const result = await adapter().send("+250788123456", "Your call summary", {
      correlationId: "corr-42",
    });

    const [tokenReq] = fake.tokenRequests();
    expect(tokenReq.method).toBe("POST");
    expect(tokenReq.path).toBe("/v1/oauth/access_token");
    expect(tokenReq.query).toEqual({ grant_type: "client_credentials" });
    expect(tokenReq.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(tokenReq.form).toEqual({ client_id: fake.apiKey, client_secret: fake.apiSecret });

    const [sendReq] = fake.sendRequests();
    expect(sendReq.method).toBe("POST");
    expect(sendReq.headers.authorization).toBe("Bearer mtn-token-1");
    expect(sendReq.headers["content-type"]).toBe("application/json");
    expect(sendReq.json).toEqual({
      senderAddress: "ACME",
      receiverAddress: ["250788123456"],
      message: "Your call summary",
      clientCorrelatorId: "corr-42",
      requestDeliveryReceipt: true,
    });
    expect(result).toEqual({
      ok: true,
      provider: "mtn",
      providerMessageId: expect.stringMatching(/^mtn-req-/),
    });
  });

  it("makes up a correlator id when none is given", async () => {
    await adapter().send("+250788123456", "hi");
    expect((fake.sendRequests()[0].json as { clientCorrelatorId: string }).clientCorrelatorId)
      .toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("reuses its token across sends", async () => {
    const sms = adapter();
    expect((await sms.send("+250788123456", "one")).ok).toBe(true);
    expect((await sms.send("+250788123457", "two")).ok).toBe(true);
    expect(fake.tokenRequests()).toHaveLength(1);
    const bearers = fake.sendRequests().map((r) => r.headers.authorization);
    expect(bearers).toEqual([bearers[0], bearers[0]]);
  });

  it("shares one token request between concurrent sends", async () => {
    const sms = adapter();
    const results = await Promise.all([1, 2, 3].map((i) => sms.send("+250788123456", `m${i}`)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it("gets a new token shortly before the old one expires", async () => {
    let now = 1_000_000;
    const sms = adapter({}, { now: () => now });
    await sms.send("+250788123456", "one");
    now += 100_000; // the token lives 120 s; refreshed 12 s early
    await sms.send("+250788123456", "two");
    expect(fake.tokenRequests()).toHaveLength(1);
    now += 10_000;
    await sms.send("+250788123456", "three");
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.sendRequests().at(-1)?.headers.authorization).toMatch(/^Bearer mtn-token-\d+$/);
    expect(fake.sendRequests().at(-1)?.headers.authorization)
      .not.toBe(fake.sendRequests()[0].headers.authorization);
  });

  it("refreshes the token once when the gateway answers 401, and the message goes", async () => {
    const sms = adapter();
    await sms.send("+250788123456", "one");
    fake.revokeTokens();
    const result = await sms.send("+250788123456", "two");

    expect(result.ok).toBe(true);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.sendRequests().map((r) => (r.json as { message: string }).message))
      .toEqual(["one", "two", "two"]);
  });

  it("gives up after one refresh when the gateway still answers 401", async () => {
    const unauthorized = {
      status: 401,
      body: {
        fault: {
          faultstring: "Invalid Access Token",
          detail: { errorcode: "keymanagement.service.invalid_access_token" },
        },
      },
    };
    fake.replyNext(unauthorized, unauthorized);
    const error = failureOf(await adapter().send("+250788123456", "hi"));
    expect(error).toMatchObject({
      class: "permanent",
      code: "keymanagement.service.invalid_access_token",
      message: "Invalid Access Token",
      httpStatus: 401,
    });
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.sendRequests()).toHaveLength(2);
  });

  it("wrong credentials fail at the token, permanently, and nothing is sent", async () => {
    const error = failureOf(await adapter({ apiSecret: "wrong" }).send("+250788123456", "hi"));
    expect(error).toMatchObject({ class: "permanent", code: "invalid_client", httpStatus: 401 });
    expect(error.message).toBe("Token request refused: Client credentials are invalid");
    expect(fake.sendRequests()).toHaveLength(0);
  });

  it("fails closed without credentials, before any HTTP call", async () => {
    const error = failureOf(
      await adapter({ apiSecret: undefined, senderId: "" }).send("+250788123456", "hi"),
    );
    expect(error).toMatchObject({ class: "permanent", code: "CHANNEL.NOT_CONFIGURED" });
    expect(error.message).toBe("Not configured: apiSecret, senderId missing");
    expect(fake.requests).toHaveLength(0);
  });

  it("uses the transaction id when the gateway gives no request id", async () => {
    fake.replyNext({
      status: 201,
      body: { statusCode: "0000", statusMessage: "Created", transactionId: "tx-77" },
    });
    expect(await adapter().send("+250788123456", "hi")).toEqual({
      ok: true,
      provider: "mtn",
      providerMessageId: "tx-77",
    });
  });
});

describe("MTN SMS adapter: error classes", () => {
  it("a rejected number is permanent, with MTN's code and message", async () => {
    fake.replyNext(mtnError("4001", "Invalid receiverAddress", 400));
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toEqual({
      class: "permanent",
      code: "4001",
      message: "Invalid receiverAddress",
      httpStatus: 400,
    });
  });

  it("a server error is retryable", async () => {
    fake.replyNext(mtnError("5000", "Internal Server Error", 500));
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "5000",
    });
  });

  it("a rate limit is retryable and carries Retry-After", async () => {
    fake.replyNext({
      ...mtnError("4290", "Too many requests", 429),
      headers: { "retry-after": "3" },
    });
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "4290",
      retryAfterMs: 3000,
    });
  });

  it("a gateway page that is not JSON is classified by status", async () => {
    fake.replyNext({
      status: 503,
      raw: "Service Unavailable",
      headers: { "content-type": "text/plain" },
    });
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "HTTP_503",
    });
  });

  it("a 2xx that carries a failure status code is a permanent failure", async () => {
    fake.replyNext({
      status: 200,
      body: { statusCode: "1001", statusMessage: "Insufficient balance" },
    });
    expect(failureOf(await adapter().send("+250788123456", "hi"))).toMatchObject({
      class: "permanent",
      code: "1001",
      message: "Insufficient balance",
    });
  });

  it("a malformed success body is a failure, not a crash", async () => {
    fake.replyNext({ status: 201, body: { statusCode: "0000" } });
    expect(failureOf(await adapter().send("+250788123456", "hi")).code).toBe("INVALID_RESPONSE");
    fake.replyNext({ status: 201, raw: "<ok/>" });
    expect(failureOf(await adapter().send("+250788123456", "hi")).code).toBe("INVALID_RESPONSE");
  });

  it("a gateway that does not answer in time is a retryable TIMEOUT", async () => {
    fake.replyNext({ status: 201, body: {}, delayMs: 2_000 });
    expect(failureOf(await adapter({}, { timeoutMs: 150 }).send("+250788123456", "hi")))
      .toMatchObject({
        class: "retryable",
        code: "TIMEOUT",
      });
  });

  it("a refused connection is a retryable NETWORK failure", async () => {
    const sms = adapter({ baseUrl: await refusedUrl() });
    expect(failureOf(await sms.send("+250788123456", "hi"))).toMatchObject({
      class: "retryable",
      code: "NETWORK",
    });
  });
});
