import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { verifyHexSha256 } from "../../supabase/functions/_shared/http/signature.ts";
import { parseForm } from "../../supabase/functions/_shared/sms-inbound/twilio.ts";
import { verifyTwilioSignature } from "../../supabase/functions/_shared/sms-inbound/twilio-signature.ts";
import { serve, type Served } from "../support/serve.ts";

/**
 * The sandbox as the providers' side of the webhooks, over HTTP: a stand-in for the functions
 * records what arrives and checks each signature with the functions' own verifiers.
 */

interface Received {
  path: string;
  body: string;
  signed: boolean;
  at: number;
}

const PUBLIC = "https://tunnel.example/functions/v1";
let functions: Served;
let received: Received[] = [];
let answer: (path: string) => Response = () => Response.json({ ok: true });
const logged: string[] = [];

function signedCorrectly(req: Request, path: string, raw: Uint8Array): Promise<boolean> {
  if (req.headers.has("x-hub-signature-256")) {
    return verifyHexSha256(C.whatsappAppSecret, req.headers.get("x-hub-signature-256"), raw);
  }
  if (req.headers.has("x-mtn-signature")) {
    return verifyHexSha256(C.mtnWebhookSecret, req.headers.get("x-mtn-signature"), raw, {
      prefixOptional: true,
    });
  }
  return verifyTwilioSignature(
    C.twilioAuthToken,
    req.headers.get("x-twilio-signature"),
    PUBLIC + path,
    parseForm(raw),
  );
}

beforeAll(async () => {
  functions = await serve(async (req) => {
    const path = new URL(req.url).pathname.replace(/^\/functions\/v1/, "");
    const raw = new Uint8Array(await req.arrayBuffer());
    received.push({
      path,
      body: new TextDecoder().decode(raw),
      signed: await signedCorrectly(req, path, raw),
      at: Date.now(),
    });
    return answer(path);
  });
});
afterAll(() => functions.close());

let server: Served;
let sandbox: Sandbox;

async function start(opts: Parameters<typeof createSandbox>[0] = {}) {
  sandbox = createSandbox({
    functionsUrl: `${functions.url}/functions/v1`,
    publicFunctionsUrl: PUBLIC,
    statusCallbacks: { delayMs: 20 },
    log: (line) => logged.push(line),
    ...opts,
  });
  server = await serve(sandbox.handler);
}

afterEach(async () => {
  await sandbox.close();
  await server.close();
  received = [];
  logged.length = 0;
  answer = () => Response.json({ ok: true });
});

const post = (path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("POST /__sandbox/inbound", () => {
  it("posts a signed WhatsApp webhook to wa-webhook and answers with its status", async () => {
    await start();
    answer = () => Response.json({ received: { messages: 1 } });
    const res = await post("/__sandbox/inbound", {
      channel: "whatsapp",
      from: "+250788123456",
      text: "hello",
    });
    expect(res.status).toBe(200);
    const out = await res.json();
    expect(out).toMatchObject({
      delivered: 200,
      channel: "whatsapp",
      provider: "whatsapp",
      response: { received: { messages: 1 } },
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ path: "/wa-webhook", signed: true });
    expect(JSON.parse(received[0].body).entry[0].changes[0].value.messages[0]).toMatchObject({
      id: out.provider_message_id,
      from: "250788123456",
      text: { body: "hello" },
    });
  });

  it("sends an SMS through the stack's SMS provider unless the request names one", async () => {
    await start({ smsProvider: "twilio" });
    await post("/__sandbox/inbound", { channel: "sms", from: "250788123456", text: "a" });
    await post("/__sandbox/inbound", {
      channel: "sms",
      from: "+250788123456",
      text: "b",
      provider: "mtn",
    });
    expect(received.map((r) => [r.path, r.signed])).toEqual([["/sms-inbound", true], [
      "/sms-inbound",
      true,
    ]]);
    expect(new URLSearchParams(received[0].body).get("From")).toBe("+250788123456");
    expect(JSON.parse(received[1].body)).toMatchObject({ from: "250788123456", message: "b" });
  });

  it("records the SMS Twilio would send from a TwiML <Message> answer", async () => {
    await start();
    answer = () =>
      new Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>You&#39;re unsubscribed &amp; won&#39;t get more.</Message></Response>',
        {
          headers: { "content-type": "text/xml" },
        },
      );
    const res = await post("/__sandbox/inbound", {
      channel: "sms",
      provider: "twilio",
      from: "+250788123456",
      text: "STOP",
    });
    expect((await res.json()).delivered).toBe(200);
    expect(sandbox.messages.list({ to: "+250788123456" })).toMatchObject([
      {
        provider: "twilio",
        channel: "sms",
        from: C.twilioFromNumber,
        body: "You're unsubscribed & won't get more.",
      },
    ]);
    // Twilio reports nothing on a TwiML <Message> without a statusCallback.
    await sandbox.callbacks.settled();
    expect(received).toHaveLength(1);
  });

  it("passes the webhook's refusal through, and refuses a bad request or a missing functions URL", async () => {
    await start();
    answer = () => Response.json({ error: { code: "AUTH.INVALID_SIGNATURE" } }, { status: 401 });
    const refused = await post("/__sandbox/inbound", {
      channel: "sms",
      from: "+250788123456",
      text: "x",
    });
    expect(await refused.json()).toMatchObject({
      delivered: 401,
      response: { error: { code: "AUTH.INVALID_SIGNATURE" } },
    });

    expect(
      (await post("/__sandbox/inbound", { channel: "fax", from: "+250788123456", text: "x" }))
        .status,
    ).toBe(400);
    expect((await post("/__sandbox/inbound", { channel: "sms", from: "hello", text: "x" })).status)
      .toBe(400);

    await sandbox.close();
    await server.close();
    sandbox = createSandbox();
    server = await serve(sandbox.handler);
    const nowhere = await post("/__sandbox/inbound", {
      channel: "sms",
      from: "+250788123456",
      text: "x",
    });
    expect(nowhere.status).toBe(409);
  });
});

function whatsappSend(to: string) {
  return fetch(`${server.url}/whatsapp/v21.0/${C.whatsappPhoneNumberId}/messages`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${C.whatsappAccessToken}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: "hi" } }),
  });
}

async function mtnSend(to: string) {
  const token =
    await (await fetch(`${server.url}/mtn/v1/oauth/access_token?grant_type=client_credentials`, {
      method: "POST",
      body: new URLSearchParams({ client_id: C.mtnApiKey, client_secret: C.mtnApiSecret }),
    })).json();
  return fetch(`${server.url}/mtn/v3/sms/messages/sms/outbound`, {
    method: "POST",
    headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
    body: JSON.stringify({
      senderAddress: "OMNI",
      receiverAddress: [to],
      message: "hi",
      requestDeliveryReceipt: true,
    }),
  });
}

function twilioSend(to: string) {
  return fetch(`${server.url}/twilio/2010-04-01/Accounts/${C.twilioAccountSid}/Messages.json`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${C.twilioAccountSid}:${C.twilioAuthToken}`)}` },
    body: new URLSearchParams({ To: to, From: C.twilioFromNumber, Body: "hi" }),
  });
}

describe("status callbacks", () => {
  it("WhatsApp: sent, delivered, read for the wamid, after the send was answered", async () => {
    await start({ statusCallbacks: { delayMs: 50 } });
    const before = Date.now();
    const res = await whatsappSend("250788123456");
    const wamid = (await res.json()).messages[0].id;
    expect(received).toEqual([]);
    await sandbox.callbacks.settled();
    const statuses = received.map((r) => JSON.parse(r.body).entry[0].changes[0].value.statuses[0]);
    expect(statuses.map((s) => [s.id, s.status])).toEqual([[wamid, "sent"], [wamid, "delivered"], [
      wamid,
      "read",
    ]]);
    expect(received.every((r) => r.path === "/wa-webhook" && r.signed)).toBe(true);
    expect(received[0].at - before).toBeGreaterThanOrEqual(45);
  });

  it("MTN: one delivery receipt for the requestId; Twilio: sent then delivered", async () => {
    await start();
    const requestId = (await (await mtnSend("250788123456")).json()).data.requestId;
    const sid = (await (await twilioSend("+250788123456")).json()).sid;
    await sandbox.callbacks.settled();
    const mtn = received.filter((r) => r.body.startsWith("{"));
    const twilio = received.filter((r) => !r.body.startsWith("{"));
    expect(
      mtn.map((
        r,
      ) => [r.path, r.signed, JSON.parse(r.body).requestId, JSON.parse(r.body).deliveryStatus]),
    )
      .toEqual([["/sms-inbound/status", true, requestId, "DeliveredToTerminal"]]);
    expect(
      twilio.map((
        r,
      ) => [
        r.path,
        r.signed,
        new URLSearchParams(r.body).get("MessageSid"),
        new URLSearchParams(r.body).get("MessageStatus"),
      ]),
    )
      .toEqual([["/sms-inbound/status", true, sid, "sent"], [
        "/sms-inbound/status",
        true,
        sid,
        "delivered",
      ]]);
  });

  it("can be turned off and on with POST /__sandbox/settings", async () => {
    await start();
    const off = await post("/__sandbox/settings", { status_callbacks: false });
    expect(await off.json()).toEqual({ status_callbacks: false });
    await whatsappSend("250788123456");
    await sandbox.callbacks.settled();
    expect(received).toEqual([]);

    const on = await post("/__sandbox/settings", { status_callbacks: { delay_ms: 5 } });
    expect(await on.json()).toEqual({ status_callbacks: { delay_ms: 5 } });
    expect(await (await fetch(`${server.url}/__sandbox/settings`)).json()).toEqual({
      status_callbacks: { delay_ms: 5 },
    });
    await whatsappSend("250788123456");
    await sandbox.callbacks.settled();
    expect(received).toHaveLength(3);
    expect((await post("/__sandbox/settings", { status_callbacks: { delay_ms: -1 } })).status).toBe(
      400,
    );
  });

  it("logs a refused callback and goes on; never blocks the provider's answer", async () => {
    await start({ statusCallbacks: { delayMs: 10 } });
    answer = () => new Response("nope", { status: 503 });
    expect((await whatsappSend("250788123456")).status).toBe(200);
    await sandbox.callbacks.settled();
    expect(received).toHaveLength(3);
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatch(
      /whatsapp status callback for wamid\..* to \/wa-webhook → HTTP 503 nope/,
    );
  });

  it("close() cancels callbacks still waiting", async () => {
    await start({ statusCallbacks: { delayMs: 10_000 } });
    await whatsappSend("250788123456");
    // close() waits for every callback task: one not cancelled would be delivered first.
    await sandbox.close();
    expect(received).toEqual([]);
  });
});
