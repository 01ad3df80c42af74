import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, type SandboxMessage } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { serve, type Served } from "../support/serve.ts";

let server: Served;
/** What slow faults waited: recorded, not slept, so no test depends on the machine's speed. */
const slept: number[] = [];
const sandbox = createSandbox({ sleep: (ms) => (slept.push(ms), Promise.resolve()) });

beforeAll(async () => {
  server = await serve(sandbox.handler);
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${server.url}/__sandbox/messages`, { method: "DELETE" });
  await fetch(`${server.url}/__sandbox/faults`, { method: "DELETE" });
});

const received = async (query = ""): Promise<SandboxMessage[]> =>
  (await fetch(`${server.url}/__sandbox/messages${query}`)).json();

function whatsappSend(body: unknown, token: string | null = C.whatsappAccessToken) {
  return fetch(`${server.url}/whatsapp/v21.0/${C.whatsappPhoneNumberId}/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

const text = (to: string, body: string) => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to,
  type: "text",
  text: { body, preview_url: false },
});

describe("WhatsApp Cloud API", () => {
  it("accepts a text message, answers like Meta and records it", async () => {
    const res = await whatsappSend(text("+250788123456", "*Your call summary*"));
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer).toMatchObject({
      messaging_product: "whatsapp",
      contacts: [{ input: "+250788123456", wa_id: "250788123456" }],
    });
    expect(answer.messages[0].id).toMatch(/^wamid\.[A-Za-z0-9+/]{20,}$/);
    const [m] = await received();
    expect(m).toMatchObject({
      id: answer.messages[0].id,
      provider: "whatsapp",
      channel: "whatsapp",
      to: "250788123456",
      from: C.whatsappPhoneNumberId,
      body: "*Your call summary*",
    });
    expect(JSON.parse(m.request_body).text.body).toBe("*Your call summary*");
    expect(m.headers.authorization).toBeUndefined();
    expect(JSON.stringify(m)).not.toContain(C.whatsappAccessToken);
  });

  it("records a template with its body parameters", async () => {
    const res = await whatsappSend({
      messaging_product: "whatsapp",
      to: "250788123456",
      type: "template",
      template: {
        name: "call_summary",
        language: { code: "en" },
        components: [{ type: "body", parameters: [{ type: "text", text: "Price agreed: 250k" }] }],
      },
    });
    expect(res.status).toBe(200);
    const [m] = await received();
    expect(m.template).toEqual({
      name: "call_summary",
      language: "en",
      parameters: ["Price agreed: 250k"],
    });
    expect(m.body).toBe("Price agreed: 250k");
  });

  it("refuses a template parameter with a newline as Meta does (132018)", async () => {
    const res = await whatsappSend({
      messaging_product: "whatsapp",
      to: "250788123456",
      type: "template",
      template: {
        name: "call_summary",
        language: { code: "en" },
        components: [{ type: "body", parameters: [{ type: "text", text: "a\nb" }] }],
      },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(132018);
    expect(await received()).toEqual([]);
  });

  it("answers 401 code 190 for a missing or wrong token, and 400 code 100 for a bad body", async () => {
    for (const token of [null, "wrong"]) {
      const res = await whatsappSend(text("250788123456", "hi"), token);
      expect(res.status).toBe(401);
      const { error } = await res.json();
      expect(error).toMatchObject({ type: "OAuthException", code: 190 });
      expect(error.fbtrace_id).toEqual(expect.any(String));
    }
    const bad = await whatsappSend({
      messaging_product: "whatsapp",
      to: "250788123456",
      type: "text",
    });
    expect(bad.status).toBe(400);
    const { error } = await bad.json();
    expect(error).toMatchObject({ code: 100, error_data: { messaging_product: "whatsapp" } });
    expect(error.error_data.details).toContain("text");
    expect(await received()).toEqual([]);
  });
});

function mtnToken(id: string = C.mtnApiKey, secret: string = C.mtnApiSecret) {
  return fetch(`${server.url}/mtn/v1/oauth/access_token?grant_type=client_credentials`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: id, client_secret: secret }),
  });
}

function mtnSend(token: string, body: unknown) {
  return fetch(`${server.url}/mtn/v3/sms/messages/sms/outbound`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("MTN-style SMS gateway", () => {
  it("issues a token for the right client credentials and sends with it", async () => {
    const tokenRes = await mtnToken();
    expect(tokenRes.status).toBe(200);
    const token = await tokenRes.json();
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    const res = await mtnSend(token.access_token, {
      senderAddress: "OMNI",
      receiverAddress: ["250788123456"],
      message: "Thanks for calling",
      clientCorrelatorId: "c-1",
      requestDeliveryReceipt: true,
    });
    expect(res.status).toBe(201);
    const answer = await res.json();
    expect(answer).toMatchObject({ statusCode: "0000", statusMessage: "Created" });
    const [m] = await received("?provider=mtn");
    expect(m).toMatchObject({
      id: answer.data.requestId,
      channel: "sms",
      to: "+250788123456",
      from: "OMNI",
      body: "Thanks for calling",
      segments: 1,
    });
  });

  it("refuses wrong client credentials, a missing token and a malformed body", async () => {
    const bad = await mtnToken(C.mtnApiKey, "wrong");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: "invalid_client" });

    const noToken = await mtnSend("not-issued", {
      senderAddress: "OMNI",
      receiverAddress: ["250788123456"],
      message: "x",
    });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ statusCode: "4010" });

    const { access_token } = await (await mtnToken()).json();
    const malformed = await mtnSend(access_token, { senderAddress: "OMNI", message: "x" });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).statusMessage).toContain("receiverAddress");
    expect(await received()).toEqual([]);
  });
});

function twilioSend(
  form: Record<string, string>,
  sid: string = C.twilioAccountSid,
  token: string = C.twilioAuthToken,
) {
  return fetch(`${server.url}/twilio/2010-04-01/Accounts/${sid}/Messages.json`, {
    method: "POST",
    headers: {
      authorization: `Basic ${btoa(`${sid}:${token}`)}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
}

describe("Twilio Messages API", () => {
  it("creates a queued message resource and records it", async () => {
    const res = await twilioSend({
      To: "+250788123456",
      From: C.twilioFromNumber,
      Body: "Hello €",
    });
    expect(res.status).toBe(201);
    const msg = await res.json();
    expect(msg.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg).toMatchObject({
      status: "queued",
      to: "+250788123456",
      from: C.twilioFromNumber,
      body: "Hello €",
      account_sid: C.twilioAccountSid,
      num_segments: "1",
      direction: "outbound-api",
    });
    const [m] = await received("?to=250788123456");
    expect(m).toMatchObject({ id: msg.sid, provider: "twilio", channel: "sms" });
  });

  it("answers Twilio's errors: 21211 invalid To, 20003 bad credentials, 21602 no body", async () => {
    const invalid = await twilioSend({ To: "0788", From: C.twilioFromNumber, Body: "x" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ code: 21211, status: 400 });
    const auth = await twilioSend(
      { To: "+250788123456", From: C.twilioFromNumber, Body: "x" },
      C.twilioAccountSid,
      "wrong",
    );
    expect(auth.status).toBe(401);
    expect(await auth.json()).toMatchObject({
      code: 20003,
      more_info: expect.stringContaining("20003"),
    });
    const empty = await twilioSend({ To: "+250788123456", From: C.twilioFromNumber });
    expect((await empty.json()).code).toBe(21602);
    expect(await received()).toEqual([]);
  });
});

describe("fault injection", () => {
  const fault = (body: unknown) =>
    fetch(`${server.url}/__sandbox/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("fails the next `count` requests in the provider's own error format, then recovers", async () => {
    expect((await fault({ provider: "whatsapp", mode: "fail", status: 503, count: 2 })).status)
      .toBe(201);
    for (let i = 0; i < 2; i++) {
      const res = await whatsappSend(text("250788123456", "hi"));
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe(131000);
    }
    expect((await whatsappSend(text("250788123456", "hi"))).status).toBe(200);
    expect(await received()).toHaveLength(1);
  });

  it("answers with a given status and body until cleared", async () => {
    const body = {
      error: { message: "Message undeliverable", code: 131026, type: "OAuthException" },
    };
    await fault({ provider: "whatsapp", mode: "fail", status: 400, body });
    for (let i = 0; i < 3; i++) {
      const res = await whatsappSend(text("250788123456", "hi"));
      expect(await res.json()).toEqual(body);
    }
    await fetch(`${server.url}/__sandbox/faults`, { method: "DELETE" });
    expect((await whatsappSend(text("250788123456", "hi"))).status).toBe(200);
  });

  it("delays a slow provider's answer, and leaves the others alone", async () => {
    await fault({ provider: "twilio", mode: "slow", delay_ms: 300, count: 1 });
    slept.length = 0;
    expect((await whatsappSend(text("250788123456", "hi"))).status).toBe(200);
    expect(slept).toEqual([]);
    const res = await twilioSend({ To: "+250788123456", From: C.twilioFromNumber, Body: "x" });
    expect(res.status).toBe(201);
    expect(slept).toEqual([300]);
  });

  it("refuses an unknown provider or mode", async () => {
    expect((await fault({ provider: "pigeon", mode: "fail" })).status).toBe(400);
    expect((await fault({ provider: "mtn", mode: "explode" })).status).toBe(400);
  });
});
