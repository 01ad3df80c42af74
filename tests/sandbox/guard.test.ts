import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  limitsFromEnv,
  MessageStore,
  type SandboxMessage,
} from "../../scripts/sandbox/messages.ts";
import { createSandbox } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { serve, type Served } from "../support/serve.ts";

let server: Served;
const sandbox = createSandbox({ statusCallbacks: false });

beforeAll(async () => {
  server = await serve(sandbox.handler);
});
afterAll(() => server.close());
beforeEach(() => {
  sandbox.messages.clear();
  sandbox.faults.clear();
});

/** A raw HTTP request, so the Host header is what a DNS-rebound page would send. */
function raw(path: string, headers: Record<string, string>, method = "GET", body = "") {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const STOP = JSON.stringify({ channel: "sms", from: "+250788123456", text: "STOP" });
const FAULT = JSON.stringify({ provider: "whatsapp", mode: "fail" });

describe("sandbox: only this machine may drive it", () => {
  it("refuses a Host that is not a local name (DNS rebinding) with 403, on every route", async () => {
    for (const host of ["evil.example", "evil.example:54324", "192.168.1.20:54324"]) {
      expect((await raw("/__sandbox/messages", { host })).status, host).toBe(403);
      expect(
        (await raw(
          "/__sandbox/faults",
          { host, "content-type": "application/json" },
          "POST",
          FAULT,
        )).status,
      )
        .toBe(403);
    }
    expect(sandbox.faults.list()).toEqual([]);
    for (
      const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`]
    ) {
      expect((await raw("/__sandbox/messages", { host })).status, host).toBe(200);
    }
  });

  it("refuses a request from a web page elsewhere (Origin), and serves one from this machine", async () => {
    const post = (origin: string) =>
      fetch(`${server.url}/__sandbox/faults`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: FAULT,
      });
    for (const origin of ["https://evil.example", "null", "http://127.0.0.1.evil.example"]) {
      expect((await post(origin)).status, origin).toBe(403);
    }
    expect(sandbox.faults.list()).toEqual([]);
    expect((await post("http://127.0.0.1:54323")).status).toBe(201);
  });

  it("answers 415 to a control post that is not application/json, and does nothing", async () => {
    for (
      const [path, body] of [["/__sandbox/inbound", STOP], ["/__sandbox/faults", FAULT], [
        "/__sandbox/settings",
        '{"status_callbacks":false}',
      ]]
    ) {
      for (
        const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
      ) {
        const res = await fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { "content-type": type },
          body,
        });
        expect(res.status, `${path} ${type}`).toBe(415);
      }
    }
    expect(sandbox.faults.list()).toEqual([]);
    expect(sandbox.callbacks.settings.enabled).toBe(false);
  });
});

describe("sandbox: never keeps or serves a credential", () => {
  it("records no Authorization, token, key or secret of any provider", async () => {
    const base = server.url;
    const tokenRes = await fetch(
      `${base}/mtn/v1/oauth/access_token?grant_type=client_credentials`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: C.mtnApiKey, client_secret: C.mtnApiSecret }),
      },
    );
    const { access_token: mtnToken } = await tokenRes.json();
    const sends = [
      fetch(`${base}/whatsapp/v21.0/${C.whatsappPhoneNumberId}/messages`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${C.whatsappAccessToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          messaging_product: "whatsapp",
          to: "250788123456",
          type: "text",
          text: { body: "hi" },
        }),
      }),
      fetch(`${base}/mtn/v3/sms/messages/sms/outbound`, {
        method: "POST",
        headers: { authorization: `Bearer ${mtnToken}`, "content-type": "application/json" },
        body: JSON.stringify({
          senderAddress: "OMNI",
          receiverAddress: ["250788123456"],
          message: "hi",
        }),
      }),
      fetch(`${base}/twilio/2010-04-01/Accounts/${C.twilioAccountSid}/Messages.json`, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${C.twilioAccountSid}:${C.twilioAuthToken}`)}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ To: "+250788123456", From: C.twilioFromNumber, Body: "hi" }),
      }),
      fetch(`${base}/openai/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: "Bearer sk-proj-real-looking-key",
          "content-type": "application/json",
        },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      }),
    ];
    for (const res of await Promise.all(sends)) {
      expect(res.status, await res.text()).toBeLessThan(300);
    }

    const served = await (await fetch(`${base}/__sandbox/messages`)).text();
    expect(JSON.parse(served)).toHaveLength(4);
    for (
      const secret of [
        C.whatsappAccessToken,
        mtnToken,
        C.mtnApiSecret,
        C.twilioAuthToken,
        btoa(`${C.twilioAccountSid}:${C.twilioAuthToken}`).slice(0, 12),
        "sk-proj",
        "Bearer",
        "Basic",
      ]
    ) {
      expect(served, secret).not.toContain(secret);
    }
  });

  it("redacts credential fields a recorded body carries, keeping other bodies byte for byte", () => {
    const store = new MessageStore();
    const message = (request_body: string): SandboxMessage => ({
      id: "x",
      provider: "mtn",
      channel: "sms",
      to: "+250788123456",
      from: "OMNI",
      body: "hi",
      request_body,
      headers: { authorization: "Bearer abc", "x-api-key": "k", "content-type": "a/b" },
      received_at: new Date(0).toISOString(),
    });
    store.record(message('{"message":"hi","auth":{"access_token":"tok-1"},"api_key":"k-2"}'));
    store.record(message("client_id=a&client_secret=s-3&To=%2B1"));
    store.record(message('{ "message": "hi" }'));
    const [json, form, plain] = store.list();
    expect(JSON.parse(json.request_body)).toEqual({
      message: "hi",
      auth: { access_token: "[redacted]" },
      api_key: "[redacted]",
    });
    expect(new URLSearchParams(form.request_body).get("client_secret")).toBe("[redacted]");
    expect(new URLSearchParams(form.request_body).get("To")).toBe("+1");
    expect(plain.request_body).toBe('{ "message": "hi" }');
    for (const m of store.list()) expect(m.headers).toEqual({ "content-type": "a/b" });
  });
});

describe("sandbox: bounded memory", () => {
  const message = (i: number, size = 10): SandboxMessage => ({
    id: `m${i}`,
    provider: "twilio",
    channel: "sms",
    to: "+1",
    from: "+2",
    body: "x".repeat(size),
    request_body: "",
    headers: {},
    received_at: new Date(0).toISOString(),
  });

  it("keeps the last N messages (1,000 by default) and at most the byte cap (16 MiB by default)", () => {
    expect(DEFAULT_LIMITS).toEqual({ maxMessages: 1000, maxBytes: 16 * 1024 * 1024 });
    const ring = new MessageStore({ maxMessages: 3 });
    for (let i = 0; i < 10; i++) ring.record(message(i));
    expect(ring.list().map((m) => m.id)).toEqual(["m7", "m8", "m9"]);

    const capped = new MessageStore({ maxBytes: 10_000 });
    for (let i = 0; i < 100; i++) capped.record(message(i, 1_000));
    expect(capped.size().bytes).toBeLessThanOrEqual(10_000);
    expect(capped.list().at(-1)!.id).toBe("m99");
    expect(capped.size().messages).toBeGreaterThan(5);
  });

  it("keeps the ring through the HTTP endpoints", async () => {
    const small = createSandbox({ statusCallbacks: false, limits: { maxMessages: 5 } });
    const s = await serve(small.handler);
    try {
      for (let i = 0; i < 12; i++) {
        const res = await fetch(
          `${s.url}/twilio/2010-04-01/Accounts/${C.twilioAccountSid}/Messages.json`,
          {
            method: "POST",
            headers: {
              authorization: `Basic ${btoa(`${C.twilioAccountSid}:${C.twilioAuthToken}`)}`,
              "content-type": "application/x-www-form-urlencoded",
            },
            body: new URLSearchParams({
              To: "+250788123456",
              From: C.twilioFromNumber,
              Body: `n${i}`,
            }),
          },
        );
        expect(res.status).toBe(201);
      }
      const kept = await (await fetch(`${s.url}/__sandbox/messages`)).json();
      expect(kept.map((m: SandboxMessage) => m.body)).toEqual(["n7", "n8", "n9", "n10", "n11"]);
    } finally {
      await s.close();
      await small.close();
    }
  });

  it("reads SANDBOX_MAX_MESSAGES and SANDBOX_MAX_BYTES, refusing nonsense", () => {
    expect(limitsFromEnv({ SANDBOX_MAX_MESSAGES: "50", SANDBOX_MAX_BYTES: "1048576" }))
      .toEqual({ maxMessages: 50, maxBytes: 1048576 });
    expect(limitsFromEnv({})).toEqual({});
    expect(() => limitsFromEnv({ SANDBOX_MAX_MESSAGES: "0" })).toThrow(/SANDBOX_MAX_MESSAGES/);
  });
});
