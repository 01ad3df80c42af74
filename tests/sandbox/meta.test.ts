import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, type SandboxMessage } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { metaInbound } from "../../scripts/sandbox/inbound-payloads.ts";
import { metaReceipt } from "../../scripts/sandbox/status-payloads.ts";
import { webhookHeaders } from "../../scripts/sandbox/webhook.ts";
import { createMetaAdapter } from "../../supabase/functions/_shared/channels/meta.ts";
import { verifyHexSha256 } from "../../supabase/functions/_shared/http/signature.ts";
import { parseMetaWebhook } from "../../supabase/functions/_shared/meta-webhook/parse-webhook.ts";
import { serve, type Served } from "../support/serve.ts";

let server: Served;
const sandbox = createSandbox({ statusCallbacks: false });
beforeAll(async () => {
  server = await serve(sandbox.handler);
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${server.url}/__sandbox/messages`, { method: "DELETE" });
});

const received = async (): Promise<SandboxMessage[]> =>
  (await fetch(`${server.url}/__sandbox/messages`)).json();
const adapter = (channel: "messenger" | "instagram", token?: string) =>
  createMetaAdapter({
    channel,
    baseUrl: `${server.url}/meta/v21.0`,
    accessToken: token ??
      (channel === "messenger" ? C.messengerPageAccessToken : C.instagramAccessToken),
  });

describe("sandbox: Meta Send API and profile API", () => {
  it("records a Messenger message sent by our adapter, on its channel", async () => {
    const r = await adapter("messenger").send("6712458890123456", {
      kind: "text",
      text: "Hello",
    }, { type: "RESPONSE" });
    expect(r.ok).toBe(true);
    const [m] = await received();
    expect(m).toMatchObject({
      provider: "messenger",
      channel: "messenger",
      to: "6712458890123456",
    });
    expect(m.body).toBe("Hello");
  });

  it("tells Instagram from Messenger by the token, and refuses a wrong one with 190", async () => {
    await adapter("instagram").send("1188", { kind: "text", text: "Hi" }, { type: "RESPONSE" });
    expect((await received())[0].channel).toBe("instagram");
    const bad = await adapter("messenger", "nope").send("1", { kind: "text", text: "x" }, {
      type: "RESPONSE",
    });
    expect(bad.ok || bad.error.code).toBe("190");
  });

  it("refuses a text over Instagram's 1,000 characters, as Meta does", async () => {
    const res = await fetch(`${server.url}/meta/v21.0/me/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${C.instagramAccessToken}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ recipient: { id: "1" }, message: { text: "x".repeat(1001) } }),
    });
    expect(res.status).toBe(400);
  });

  it("answers sender actions and profiles", async () => {
    expect((await adapter("messenger").senderAction("1", "typing_on")).ok).toBe(true);
    expect(await adapter("messenger").profile("6712458890123456")).toMatchObject({
      name: "Sandbox Person 3456",
    });
    expect(await adapter("instagram").profile("1188734505712345")).toMatchObject({
      username: "sandbox.2345",
    });
  });
});

describe("sandbox: Messenger/Instagram webhooks, signed as Meta signs them", () => {
  it("a quick reply, a postback and a receipt parse as what they are, under a valid signature", async () => {
    const target = { functionsUrl: "http://x", publicFunctionsUrl: "http://x", credentials: C };
    const now = new Date();
    const hooks = [
      metaInbound({
        channel: "messenger",
        from: "61",
        text: "+250788123456",
        payload: "+250788123456",
        now,
      }),
      metaInbound({ channel: "instagram", from: "62", text: "Track", postback: "TRACK", now }),
      metaReceipt({ id: "m_1", to: "61", channel: "messenger" } as SandboxMessage, "read", now),
    ];
    const parsed = [];
    for (const w of hooks) {
      expect(w.path).toBe("/meta-webhook");
      const headers = await webhookHeaders(w, target);
      const body = new TextEncoder().encode(w.body);
      expect(await verifyHexSha256(C.metaAppSecret, headers["x-hub-signature-256"], body)).toBe(
        true,
      );
      const p = parseMetaWebhook(JSON.parse(w.body), "c");
      if (!p.isMeta) throw new Error("not a Meta webhook");
      parsed.push(p.events[0]);
    }
    expect(parsed[0]).toMatchObject({ kind: "message", shared: { kind: "phone" } });
    expect(parsed[1]).toMatchObject({
      kind: "message",
      message: { channel: "instagram", messageType: "postback", body: "[chose: Track (TRACK)]" },
    });
    expect(parsed[2]).toMatchObject({ kind: "receipt", update: { status: "read", person: "61" } });
  });
});
