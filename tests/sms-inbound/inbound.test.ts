import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { refusedUrl } from "../support/fake-providers.ts";
import {
  type Env,
  inboundRows,
  makeHandler,
  mtnRequest,
  newPhone,
  newTwilioSid,
  profileOf,
  PUBLIC_FUNCTIONS_URL,
  startEnv,
  twilioInbound,
  twilioRequest,
} from "./harness.ts";
import { mtnSignature, twilioSignature } from "./signing.ts";

let env: Env;

beforeAll(async () => {
  env = await startEnv();
});
afterAll(() => env?.close());
beforeEach(() => {
  env.mtn.reset();
  env.twilio.reset();
});

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

describe("sms-inbound: MTN-style gateway", () => {
  it("records a signed inbound SMS, answers 200, then hands it to the AI replier once", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const res = await h.send(
      mtnRequest({
        from: phone.slice(1),
        to: "4040",
        message: "Change the price to 250k",
        id: "mo-1",
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "recorded" });

    const rows = await inboundRows(env.db.sql, phone);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: "mtn",
      provider_message_id: "mo-1",
      body: "Change the price to 250k",
      status: "received",
      reply_state: "pending",
      metadata: { to: "4040" },
    });
    expect(h.replies).toEqual([expect.objectContaining({
      deliveryId: rows[0].id,
      channel: "sms",
      sender: phone,
      isNew: true,
      allowsSms: true,
    })]);
    expect(env.mtn.sendRequests()).toHaveLength(0);
  });

  it("answers once the SMS is in the inbox; the profile, session and message come from the worker", async () => {
    const phone = newPhone();
    let kicks = 0;
    const h = makeHandler(env, { onAccepted: () => Promise.resolve(void kicks++) });
    const res = await h.send(
      mtnRequest({
        from: phone.slice(1),
        to: "4040",
        message: "Is it still for sale?",
        id: `mo-in-${phone}`,
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "recorded" });
    // The request wrote the inbox row only, and asked the worker once.
    const [inbox] = await env.db.sql`select channel, sender, message ->> 'body' as body,
        (message ->> 'needs_reply')::boolean as needs_reply, processed_at
      from public.inbound_inbox where channel = 'sms' and provider_message_id = ${`mo-in-${phone}`}`;
    expect(inbox).toMatchObject({
      channel: "sms",
      sender: phone,
      body: "Is it still for sale?",
      needs_reply: true,
      processed_at: null,
    });
    expect(kicks).toBe(1);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(0);
    expect(await profileOf(env.db.sql, phone)).toBeUndefined();

    // The worker derives it and hands it to the replier.
    const replies: unknown[] = [];
    const { drainInbox } = await import("../../supabase/functions/_shared/inbox/process-inbox.ts");
    await drainInbox({
      sql: env.db.sql,
      logger: h.log,
      onInbound: (r) => Promise.resolve(void replies.push(r)),
    });
    const rows = await inboundRows(env.db.sql, phone);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: "mtn",
      reply_state: "pending",
      metadata: { to: "4040" },
    });
    expect(replies).toEqual([
      expect.objectContaining({ deliveryId: rows[0].id, channel: "sms", sender: phone }),
    ]);
  });

  it("creates an unknown sender's profile with SMS allowed and sms as the last channel", async () => {
    const phone = newPhone();
    expect(await profileOf(env.db.sql, phone)).toBeUndefined();
    await makeHandler(env).send(mtnRequest({ from: phone, message: "hello", id: `mo-${phone}` }));
    expect(await profileOf(env.db.sql, phone)).toEqual({
      allows_sms: true,
      last_active_channel: "sms",
    });
  });

  it("accepts the signature with a sha256= prefix, and on the bare path (told apart by header)", async () => {
    const phone = newPhone();
    const raw = JSON.stringify({ from: phone, message: "hi", id: `mo-prefix-${phone}` });
    const h = makeHandler(env);
    expect((await h.send(mtnRequest(raw, { signature: `sha256=${mtnSignature(raw)}` }))).status)
      .toBe(200);
    const raw2 = JSON.stringify({ from: phone, message: "again", id: `mo-bare-${phone}` });
    expect((await h.send(mtnRequest(raw2, { path: "" }))).status).toBe(200);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(2);
  });

  it("answers 401 and writes nothing for a wrong, missing or foreign-secret signature", async () => {
    const phone = newPhone();
    const body = { from: phone, message: "hi", id: `mo-bad-${phone}` };
    const raw = JSON.stringify(body);
    const h = makeHandler(env);
    for (
      const signature of [
        mtnSignature(raw, "another-secret"),
        null,
        "",
        "sha256=",
        mtnSignature(`${raw} `),
      ]
    ) {
      const res = await h.send(mtnRequest(raw, { signature }));
      expect(res.status, String(signature)).toBe(401);
      expect((await res.json()).error.code).toBe("AUTH.UNAUTHORIZED");
    }
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(0);
    expect(await profileOf(env.db.sql, phone)).toBeUndefined();
    expect(h.replies).toHaveLength(0);
    expect(h.log.lines.map((l) => l.event)).toContain("SMS_WEBHOOK_SIGNATURE_INVALID");
  });

  it("fails closed without MTN_WEBHOOK_SECRET: 401 even for a request signed with the usual one", async () => {
    const phone = newPhone();
    const h = makeHandler(env, {
      webhook: { twilioAuthToken: "t", publicFunctionsUrl: PUBLIC_FUNCTIONS_URL },
    });
    const res = await h.send(
      mtnRequest({ from: phone, message: "hi", id: `mo-nosecret-${phone}` }),
    );
    expect(res.status).toBe(401);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(0);
    expect(h.log.lines.find((l) => l.event === "SMS_WEBHOOK_NOT_CONFIGURED")).toMatchObject({
      missing: ["MTN_WEBHOOK_SECRET"],
    });
  });

  it("is idempotent on the gateway's id: a redelivery is one row and one AI reply", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const body = { from: phone, message: "Is my order ready?", id: `mo-dup-${phone}` };
    expect(await (await h.send(mtnRequest(body))).json()).toEqual({ result: "recorded" });
    expect(await (await h.send(mtnRequest(body))).json()).toEqual({ result: "duplicate" });
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(1);
    expect(h.replies).toHaveLength(1);
  });

  it("without an id, a redelivery of the same bytes is still one row", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const raw = JSON.stringify({
      from: phone,
      message: "no id here",
      timestamp: "2026-11-22T08:00:00Z",
    });
    await h.send(mtnRequest(raw));
    await h.send(mtnRequest(raw));
    const rows = await inboundRows(env.db.sql, phone);
    expect(rows).toHaveLength(1);
    expect(rows[0].provider_message_id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(h.replies).toHaveLength(1);
  });

  it("20 concurrent copies of one message: one row, one AI reply, all answered 200", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const body = { from: phone, message: "Twenty at once", id: `mo-burst-${phone}` };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => h.handler(mtnRequest(body))),
    );
    await h.settled();
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const results = await Promise.all(answers.map(async (r) => (await r.json()).result));
    expect(results.filter((r) => r === "recorded")).toHaveLength(1);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(1);
    expect(h.replies).toHaveLength(1);
  });

  it("answers 200 and records nothing for a sender that is not a phone number", async () => {
    const h = makeHandler(env);
    const res = await h.send(
      mtnRequest({ from: "MTN", message: "Your bundle expires today", id: "mo-network-1" }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "ignored" });
    const [row] = await env.db
      .sql`select count(*)::int as n from public.message_delivery_log where provider_message_id = 'mo-network-1'`;
    expect(row.n).toBe(0);
  });

  it("keeps an empty SMS in the history without asking the AI for a reply", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnRequest({ from: phone, message: "   ", id: `mo-empty-${phone}` }));
    expect((await inboundRows(env.db.sql, phone))[0]).toMatchObject({ reply_state: "skipped" });
    expect(h.replies).toHaveLength(0);
  });

  it("stores a body with a NUL character without it (Postgres text cannot hold NUL)", async () => {
    const phone = newPhone();
    const res = await makeHandler(env).send(
      mtnRequest({ from: phone, message: "a\u0000b", id: `mo-nul-${phone}` }),
    );
    expect(res.status).toBe(200);
    expect((await inboundRows(env.db.sql, phone))[0].body).toBe("ab");
  });

  it("answers 400 for malformed JSON or a missing field, 413 over 1 MiB, 405 for GET, 404 elsewhere", async () => {
    const h = makeHandler(env);
    const malformed = await h.send(mtnRequest("{not json"));
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("HTTP.MALFORMED_JSON");
    const missing = await h.send(mtnRequest({ message: "who am I" }));
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toMatchObject({
      code: "VALIDATION.INVALID_BODY",
      field: "from",
    });

    const big = JSON.stringify({ from: newPhone(), message: "x".repeat(1024 * 1024) });
    expect((await h.send(mtnRequest(big))).status).toBe(413);

    const get = await h.send(new Request("http://127.0.0.1:9000/sms-inbound/mtn"));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await h.send(mtnRequest({}, { path: "/nope" }))).status).toBe(404);
  });

  it("answers 401 when nothing says which provider sent the request", async () => {
    const res = await makeHandler(env).send(
      new Request("http://127.0.0.1:9000/sms-inbound", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "hello",
      }),
    );
    expect(res.status).toBe(401);
  });

  it("answers 503 when the database is unreachable, so the gateway retries", async () => {
    const sql = createSql(await refusedUrl(), { max: 1 });
    try {
      const h = makeHandler(env, { sql });
      const res = await h.send(mtnRequest({ from: newPhone(), message: "hi", id: "mo-db-down" }));
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe("HTTP.UNAVAILABLE");
      expect(h.replies).toHaveLength(0);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

describe("sms-inbound: Twilio", () => {
  it("records a signed inbound SMS and answers empty TwiML", async () => {
    const phone = newPhone();
    const sid = newTwilioSid();
    const h = makeHandler(env);
    const res = await h.send(twilioRequest(twilioInbound(phone, "When is my delivery?", sid)));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(EMPTY_TWIML);
    const rows = await inboundRows(env.db.sql, phone);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: "twilio",
      provider_message_id: sid,
      body: "When is my delivery?",
      reply_state: "pending",
      metadata: {
        to: "+15005550006",
        num_segments: "1",
        account_sid: "AC00000000000000000000000000000001",
      },
    });
    expect(h.replies).toEqual([
      expect.objectContaining({ deliveryId: rows[0].id, channel: "sms", sender: phone }),
    ]);
  });

  it("checks the signature against PUBLIC_FUNCTIONS_URL + path + query, not the URL the runtime sees", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const params = twilioInbound(phone, "hi", newTwilioSid());
    const query = "?tenant=acme";
    expect((await h.send(twilioRequest(params, { query }))).status).toBe(200);
    const signedWithoutQuery = `${PUBLIC_FUNCTIONS_URL}/sms-inbound/twilio`;
    const other = twilioInbound(phone, "hi", newTwilioSid());
    expect((await h.send(twilioRequest(other, { query, signedUrl: signedWithoutQuery }))).status)
      .toBe(401);
    const runtimeUrl = `http://127.0.0.1:9000/sms-inbound/twilio`;
    expect((await h.send(twilioRequest(other, { signedUrl: runtimeUrl }))).status).toBe(401);
    // Twilio may sign the configured URL with its default port; its SDKs accept both forms.
    const withPort = `${PUBLIC_FUNCTIONS_URL.replace(".co/", ".co:443/")}/sms-inbound/twilio`;
    expect((await h.send(twilioRequest(other, { signedUrl: withPort }))).status).toBe(200);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(2);
  });

  it("tells Twilio apart on the bare path by its header", async () => {
    const phone = newPhone();
    const res = await makeHandler(env).send(
      twilioRequest(twilioInbound(phone, "bare", newTwilioSid()), { path: "" }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMPTY_TWIML);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(1);
  });

  it("answers 401 and writes nothing for a wrong signature, a tampered field or another token", async () => {
    const phone = newPhone();
    const sid = newTwilioSid();
    const params = twilioInbound(phone, "hi", sid);
    const h = makeHandler(env);
    const url = `${PUBLIC_FUNCTIONS_URL}/sms-inbound/twilio`;
    const good = twilioSignature(url, Object.entries(params));
    const tampered = new Request("http://127.0.0.1:9000/sms-inbound/twilio", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": good },
      body: new URLSearchParams({ ...params, Body: "hi!" }).toString(),
    });
    for (
      const req of [
        twilioRequest(params, { signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=" }),
        twilioRequest(params, { token: "12345" }),
        twilioRequest(params, { signature: null }),
        tampered,
      ]
    ) {
      expect((await h.send(req)).status).toBe(401);
    }
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(0);
    expect(await profileOf(env.db.sql, phone)).toBeUndefined();
    expect(h.replies).toHaveLength(0);
  });

  it("checks the signature before the form: an unsigned or wrongly signed bad form is 401, not 400", async () => {
    const h = makeHandler(env);
    const notUtf8 = new Uint8Array([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff, 0xfe]); // "Body=" then bytes
    for (const signature of [null, "RSOYDt4T1cUTdK1PDd93/VVr8B8="]) {
      const res = await h.send(
        new Request("http://127.0.0.1:9000/sms-inbound/twilio", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            ...(signature ? { "x-twilio-signature": signature } : {}),
          },
          body: notUtf8,
        }),
      );
      expect(res.status, String(signature)).toBe(401);
    }
  });

  it("fails closed without TWILIO_AUTH_TOKEN or PUBLIC_FUNCTIONS_URL", async () => {
    const phone = newPhone();
    const params = twilioInbound(phone, "hi", newTwilioSid());
    const noToken = makeHandler(env, {
      webhook: { mtnSecret: "m", publicFunctionsUrl: PUBLIC_FUNCTIONS_URL },
    });
    expect((await noToken.send(twilioRequest(params))).status).toBe(401);
    const noUrl = makeHandler(env, {
      webhook: { mtnSecret: "m", twilioAuthToken: "twilio-auth-token-for-tests" },
    });
    expect((await noUrl.send(twilioRequest(params))).status).toBe(401);
    expect(noUrl.log.lines.find((l) => l.event === "SMS_WEBHOOK_NOT_CONFIGURED")).toMatchObject({
      missing: ["PUBLIC_FUNCTIONS_URL"],
    });
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(0);
  });

  it("records an MMS by its media URLs and types", async () => {
    const phone = newPhone();
    const res = await makeHandler(env).send(
      twilioRequest(twilioInbound(phone, "", newTwilioSid("MM"), {
        NumMedia: "1",
        MediaUrl0: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0: "image/jpeg",
      })),
    );
    expect(res.status).toBe(200);
    const [row] = await inboundRows(env.db.sql, phone);
    expect(row).toMatchObject({
      message_type: "image",
      body: "[image: image/jpeg]",
      reply_state: "pending",
    });
    expect(row.metadata.media).toEqual([{
      url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
      content_type: "image/jpeg",
    }]);
  });

  it("is idempotent on MessageSid, also under 20 concurrent copies", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const params = twilioInbound(phone, "Twenty Twilio copies", newTwilioSid());
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => h.handler(twilioRequest(params))),
    );
    await h.settled();
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(1);
    expect(h.replies).toHaveLength(1);
    await h.send(twilioRequest(params));
    expect(h.replies).toHaveLength(1);
  });

  it("answers 400 for a signed form without From", async () => {
    const res = await makeHandler(env).send(
      twilioRequest({ MessageSid: newTwilioSid(), Body: "x" }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: "VALIDATION.INVALID_BODY",
      field: "From",
    });
  });
});
