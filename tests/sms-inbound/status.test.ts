import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Env,
  makeHandler,
  mtnRequest,
  newPhone,
  outboundRows,
  sendSms,
  startEnv,
  twilioRequest,
} from "./harness.ts";

let env: Env;

beforeAll(async () => {
  env = await startEnv();
});
afterAll(() => env?.close());
beforeEach(() => {
  env.mtn.reset();
  env.twilio.reset();
});

/** An SMS we sent through the fake provider: its logged row and the id the provider gave it. */
async function sentVia(adapter: "mtn" | "twilio") {
  const phone = newPhone();
  const sent = await sendSms(env, adapter, phone, "Your order shipped");
  expect(sent.status).toBe("sent");
  return { phone, id: sent.providerMessageId! };
}

const statusOf = async (phone: string) => (await outboundRows(env.db.sql, phone))[0];
const twilioStatus = (sid: string, status: string, extra: Record<string, string> = {}) =>
  twilioRequest({
    SmsSid: sid,
    SmsStatus: status,
    MessageStatus: status,
    To: "+250788000000",
    MessageSid: sid,
    AccountSid: "AC00000000000000000000000000000001",
    From: "+15005550006",
    ApiVersion: "2010-04-01",
    ...extra,
  }, { path: "/status" });

describe("sms-inbound/status: Twilio status callbacks", () => {
  it("moves the row forward: sent, then delivered", async () => {
    const { phone, id } = await sentVia("twilio");
    expect(id).toMatch(/^SM/);
    const h = makeHandler(env);
    const res = await h.send(twilioStatus(id, "sent"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    await h.send(twilioStatus(id, "delivered", { RawDlrDoneDate: "2611221012" }));
    expect(await statusOf(phone)).toMatchObject({ status: "delivered" });
    const [row] = await env.db
      .sql`select delivered_at from public.message_delivery_log where provider_message_id = ${id}`;
    expect(row.delivered_at).toBeInstanceOf(Date);
  });

  it("never moves backwards: delivered, then a late sent, stays delivered", async () => {
    const { phone, id } = await sentVia("twilio");
    const h = makeHandler(env);
    await h.send(twilioStatus(id, "delivered"));
    await h.send(twilioStatus(id, "sent"));
    await h.send(twilioStatus(id, "queued"));
    expect(await statusOf(phone)).toMatchObject({ status: "delivered" });
    expect(h.log.lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(["SMS_STATUS_APPLIED", "SMS_STATUS_IGNORED"]),
    );
  });

  it("stores Twilio's error code and its class for undelivered", async () => {
    const { phone, id } = await sentVia("twilio");
    await makeHandler(env).send(twilioStatus(id, "undelivered", { ErrorCode: "30003" }));
    expect(await statusOf(phone)).toMatchObject({
      status: "failed",
      error_code: "30003",
      error_class: "retryable",
    });
    const { phone: p2, id: id2 } = await sentVia("twilio");
    await makeHandler(env).send(twilioStatus(id2, "failed", { ErrorCode: "30006" }));
    expect(await statusOf(p2)).toMatchObject({
      status: "failed",
      error_code: "30006",
      error_class: "permanent",
    });
  });

  it("answers 200 for an id it never sent, and logs it", async () => {
    const h = makeHandler(env);
    const res = await h.send(twilioStatus("SM00000000000000000000000000000000", "delivered"));
    expect(res.status).toBe(200);
    expect(h.log.lines.map((l) => l.event)).toContain("SMS_STATUS_UNKNOWN_MESSAGE");
  });

  it("answers 401 for a wrong signature and changes nothing", async () => {
    const { phone, id } = await sentVia("twilio");
    const res = await makeHandler(env).send(
      twilioRequest({ MessageSid: id, MessageStatus: "failed" }, {
        path: "/status",
        token: "not-the-token",
      }),
    );
    expect(res.status).toBe(401);
    expect(await statusOf(phone)).toMatchObject({ status: "sent" });
  });
});

describe("sms-inbound/status: MTN-style delivery receipts", () => {
  const receipt = (o: object) => mtnRequest(o, { path: "/status" });

  it("applies DeliveredToTerminal by requestId, and keeps it over a late DeliveredToNetwork", async () => {
    const { phone, id } = await sentVia("mtn");
    expect(id).toMatch(/^mtn-req-/);
    const h = makeHandler(env);
    const res = await h.send(receipt({
      requestId: id,
      clientCorrelatorId: `corr-${phone}`,
      deliveryStatus: "DeliveredToTerminal",
      receiverAddress: phone.slice(1),
    }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "applied", status: "delivered" });
    const late = await h.send(receipt({ requestId: id, deliveryStatus: "DeliveredToNetwork" }));
    expect(await late.json()).toEqual({ result: "applied", status: "delivered" });
    expect(await statusOf(phone)).toMatchObject({ status: "delivered" });
  });

  it("matches by transactionId when the gateway's answer had no requestId", async () => {
    const phone = newPhone();
    env.mtn.replyNext({
      status: 201,
      body: { statusCode: "0000", transactionId: `tx-only-${phone}`, data: {} },
    });
    const sent = await sendSms(env, "mtn", phone, "hello");
    expect(sent.providerMessageId).toBe(`tx-only-${phone}`);
    const res = await makeHandler(env).send(receipt({
      requestId: "some-other-id",
      transactionId: `tx-only-${phone}`,
      deliveryStatus: "DeliveredToTerminal",
    }));
    expect(await res.json()).toEqual({ result: "applied", status: "delivered" });
  });

  it("stores DeliveryImpossible as a permanent failure", async () => {
    const { phone, id } = await sentVia("mtn");
    await makeHandler(env).send(receipt({ requestId: id, deliveryStatus: "DeliveryImpossible" }));
    expect(await statusOf(phone)).toMatchObject({
      status: "failed",
      error_code: "DeliveryImpossible",
      error_class: "permanent",
    });
  });

  it("answers 200 for an unknown id and for a status that moves nothing", async () => {
    const h = makeHandler(env);
    expect(
      await (await h.send(
        receipt({ requestId: "never-sent", deliveryStatus: "DeliveredToTerminal" }),
      )).json(),
    )
      .toEqual({ result: "unknown_message" });
    const { phone, id } = await sentVia("mtn");
    expect(
      await (await h.send(receipt({ requestId: id, deliveryStatus: "DeliveryUncertain" }))).json(),
    )
      .toEqual({ result: "ignored" });
    expect(await statusOf(phone)).toMatchObject({ status: "sent" });
  });

  it("answers 401 for a receipt signed with another secret, and 400 for one without an id", async () => {
    const { phone, id } = await sentVia("mtn");
    const h = makeHandler(env);
    const raw = JSON.stringify({ requestId: id, deliveryStatus: "DeliveryImpossible" });
    expect((await h.send(mtnRequest(raw, { path: "/status", signature: "0".repeat(64) }))).status)
      .toBe(401);
    expect(await statusOf(phone)).toMatchObject({ status: "sent" });
    expect((await h.send(receipt({ deliveryStatus: "DeliveredToTerminal" }))).status).toBe(400);
  });

  it("also answers on the explicit /status/mtn path", async () => {
    const { phone, id } = await sentVia("mtn");
    await makeHandler(env).send(
      mtnRequest({ requestId: id, deliveryStatus: "DeliveredToTerminal" }, {
        path: "/status/mtn",
      }),
    );
    expect(await statusOf(phone)).toMatchObject({ status: "delivered" });
  });
});
