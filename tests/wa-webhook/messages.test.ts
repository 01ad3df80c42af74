import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import {
  countRows,
  createHarness,
  fixture,
  fixtureNames,
  fixtureRaw,
  post,
  sign,
  withReplaced,
} from "./harness.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const SENDER = "+16505551234";

/** What each of Meta's example messages must become: the row's type, body and metadata. */
const EXPECTED: Record<string, { type: string; body: string; metadata?: object; reply?: boolean }> =
  {
    "text": { type: "text", body: "Does it come in another color?" },
    "text-reply-context": {
      type: "text",
      body: "Yes, the blue one please",
      metadata: {
        context: {
          from: "15550783881",
          id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NTE5NzI2RjI5MkE0NDhCNjIA",
        },
      },
    },
    "text-forwarded": {
      type: "text",
      body: "Look at this deal my friend sent me",
      metadata: { context: { forwarded: true } },
    },
    "text-referral-click-to-whatsapp-ad": {
      type: "text",
      body: "Can I get more info about this?",
      metadata: {
        referral: {
          source_type: "ad",
          source_id: "120226305854810726",
          source_url: "https://fb.me/3cr4Wqqkv",
          headline: "Chat with us",
          media_type: "image",
          ctwa_clid: expect.stringMatching(/^Aff-n8ZT/),
        },
      },
    },
    "image": {
      type: "image",
      body: "[image: image/jpeg] Pickup truck",
      metadata: {
        media: {
          id: "1003383421387256",
          mime_type: "image/jpeg",
          sha256: "mAqo1Rf2nmUidBvd6AAEsMo1rBJF4dQ5ANLCNHRlfNQ=",
          caption: "Pickup truck",
        },
      },
    },
    "audio-voice": {
      type: "audio",
      body: "[voice message: audio/ogg; codecs=opus]",
      metadata: {
        media: { id: "1003383421387257", mime_type: "audio/ogg; codecs=opus", voice: true },
      },
    },
    "video": {
      type: "video",
      body: "[video: video/mp4] Fox in the garden",
      metadata: { media: { id: "1003383421387258", mime_type: "video/mp4" } },
    },
    "document": {
      type: "document",
      body: "[document: application/pdf lucky-shrub-invoice.pdf] Lucky Shrub Invoice",
      metadata: {
        media: {
          id: "1003383421387259",
          filename: "lucky-shrub-invoice.pdf",
          caption: "Lucky Shrub Invoice",
        },
      },
    },
    "sticker": {
      type: "sticker",
      body: "[sticker: image/webp]",
      metadata: { media: { id: "1003383421387260", mime_type: "image/webp", animated: false } },
    },
    "location": {
      type: "location",
      body:
        "[location: 37.483307,-122.148981 Meta Headquarters, 1 Hacker Way, Menlo Park, CA 94025]",
      metadata: {
        location: { latitude: 37.483307, longitude: -122.148981, name: "Meta Headquarters" },
      },
    },
    "contacts": {
      type: "contacts",
      body: "[contacts: Barbara J. Johnson]",
      metadata: {
        contacts: [expect.objectContaining({
          phones: [{ phone: "+1 (650) 555-1234", wa_id: "16505551234", type: "WORK" }],
          org: { company: "Lucky Shrub", department: "Legal", title: "Lead Counsel" },
        })],
      },
    },
    "interactive-button-reply": {
      type: "interactive",
      body: "Change",
      metadata: {
        interactive: { type: "button_reply", id: "change-button", title: "Change" },
        context: { id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIyNDlEQ0FBMjUyNzdBQUJDN0EA" },
      },
    },
    "interactive-list-reply": {
      type: "interactive",
      body: "Priority Mail Express",
      metadata: {
        interactive: {
          type: "list_reply",
          id: "priority_express",
          title: "Priority Mail Express",
          description: "Next Day to 2 Days",
        },
      },
    },
    "interactive-nfm-reply-flow": {
      type: "interactive",
      body: expect.stringMatching(
        /^\[form reply: flow\] \{"flow_token".*"appointment_time": "10:30"\}$/,
      ),
      metadata: {
        interactive: {
          type: "nfm_reply",
          name: "flow",
          body: "Sent",
          response_json: expect.stringContaining("2026-11-24"),
        },
      },
    },
    "button-template-quick-reply": {
      type: "button",
      body: "Unsubscribe from Promos",
      metadata: { button: { payload: "Unsubscribe from Promos", text: "Unsubscribe from Promos" } },
    },
    "reaction": {
      type: "reaction",
      body: "[reaction: 😀]",
      metadata: {
        reaction: {
          message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA",
          emoji: "😀",
        },
      },
      reply: false,
    },
    "reaction-removed": { type: "reaction", body: "[reaction removed]", reply: false },
    "order": {
      type: "order",
      body: "[order: 2 items, 85 USD] Please deliver before Friday",
      metadata: {
        order: {
          catalog_id: "194836987003835",
          product_items: expect.arrayContaining([
            expect.objectContaining({ product_retailer_id: "di9ozbzfi4", quantity: 2 }),
          ]),
        },
      },
    },
    "system-user-changed-number": {
      type: "system",
      body: "User Sheena Nelson changed from 16505551234 to 16505553333",
      metadata: { system: { type: "user_changed_number", wa_id: "16505553333" } },
      reply: false,
    },
    "unsupported": {
      type: "unsupported",
      body: "[unsupported message: edit]",
      metadata: {
        unsupported: { type: "edit" },
        errors: [{ code: 131051, title: "Message type unknown" }],
      },
    },
  };

const messageFixtures = fixtureNames().filter((n) =>
  !n.startsWith("status-") && !n.startsWith("calls-")
);
const wamidOf = (name: string): string => fixture(name).entry[0].changes[0].value.messages[0].id;

function rowOf(wamid: string) {
  return db.sql`
    select m.channel, m.direction, m.status, m.provider, m.sender, m.message_type, m.body, m.metadata,
           m.reply_state, m.session_id, p.whatsapp_jid, p.has_whatsapp, p.display_name, p.last_active_channel
    from public.message_delivery_log m join public.profiles p on p.id = m.profile_id
    where m.provider_message_id = ${wamid}`;
}

describe("wa-webhook: a wrong or missing signature is refused and writes nothing", () => {
  it("answers 401 for every Meta example signed with another secret, without a header, or with none configured", async () => {
    const h = createHarness({ db });
    const unconfigured = createHarness({ db, appSecret: null });
    const before = await countRows(db.sql);
    for (const name of fixtureNames()) {
      const raw = fixtureRaw(name);
      expect((await h.handler(post(raw, sign(raw, "another-secret")))).status, name).toBe(401);
      expect((await h.handler(post(raw, null))).status, name).toBe(401);
      expect((await h.handler(post(raw, sign(`${raw} `)))).status, name).toBe(401);
      expect((await h.handler(post(raw, sign(raw).replace("sha256=", "")))).status, name).toBe(401);
      expect((await unconfigured.handler(post(raw))).status, name).toBe(401);
    }
    await Promise.all([h.settled(), unconfigured.settled()]);
    expect(await countRows(db.sql)).toEqual(before);
    expect(h.inbound).toHaveLength(0);
    expect(h.events()).toContain("WHATSAPP_SIGNATURE_INVALID");
    expect(unconfigured.events()).toContain("WHATSAPP_APP_SECRET_MISSING");
  });
});

describe("wa-webhook: every Meta message type, signed, becomes the right inbound row", () => {
  it("has an expectation for every message fixture", () => {
    expect(messageFixtures.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(messageFixtures)("%s", async (name) => {
    const h = createHarness({ db });
    const res = await h.handler(post(fixtureRaw(name)));
    expect(res.status).toBe(200);
    expect((await res.json()).received).toMatchObject({ messages: 1, duplicates: 0 });
    await h.settled();

    const want = EXPECTED[name];
    const rows = await rowOf(wamidOf(name));
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({
      channel: "whatsapp",
      direction: "inbound",
      status: "received",
      provider: "whatsapp",
      sender: SENDER,
      message_type: want.type,
      body: want.body,
      reply_state: want.reply === false ? "skipped" : "pending",
      whatsapp_jid: "16505551234",
      has_whatsapp: true,
      last_active_channel: "whatsapp",
    });
    expect(row.metadata).toMatchObject({
      sent_at: expect.stringMatching(/^20\d\d-\d\d-\d\dT/),
      business: { phone_number_id: "106540352242922", display_phone_number: "15550783881" },
      ...want.metadata,
    });
    if (name !== "system-user-changed-number") expect(row.display_name).toBe("Sheena Nelson");

    if (want.reply === false) expect(h.inbound).toHaveLength(0);
    else {
      expect(h.inbound).toEqual([expect.objectContaining({
        channel: "whatsapp",
        sender: SENDER,
        isNew: true,
        sessionId: row.session_id,
        deliveryId: expect.any(String),
        correlationId: res.headers.get("x-correlation-id"),
      })]);
    }
    expect(h.events()).toContain("WHATSAPP_MESSAGE_RECEIVED");
    expect(JSON.stringify(h.log.lines)).not.toContain("16505551234");
  });

  it("keeps one live session for the person across all those messages", async () => {
    const sessions = await db.sql`
      select s.id, s.channels_seen from public.omnichannel_sessions s
      join public.profiles p on p.id = s.profile_id
      where p.phone_number = ${SENDER} and s.status <> 'closed'`;
    expect(sessions).toHaveLength(1);
    expect(sessions[0].channels_seen).toContain("whatsapp");
  });
});

describe("wa-webhook: idempotent on the wamid", () => {
  it("records a redelivered webhook once and asks for one reply", async () => {
    const raw = withReplaced("text", {
      "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=": "wamid.redelivered-1",
    });
    const h = createHarness({ db });
    expect((await (await h.handler(post(raw))).json()).received).toMatchObject({
      messages: 1,
      duplicates: 0,
    });
    const second = await h.handler(post(raw));
    expect(second.status).toBe(200);
    expect((await second.json()).received).toMatchObject({ messages: 0, duplicates: 1 });
    await h.settled();
    expect(await rowOf("wamid.redelivered-1")).toHaveLength(1);
    expect(h.inbound).toHaveLength(1);
    expect(h.events()).toContain("WHATSAPP_MESSAGE_DUPLICATE");
  });

  it("records 20 concurrent copies of the same webhook once and asks for one reply", async () => {
    const raw = withReplaced("text", {
      "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=": "wamid.concurrent-20",
      "16505551234": "250788123456",
    });
    const h = createHarness({ db });
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.handler(post(raw))));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(bodies.filter((b) => b.received.messages === 1)).toHaveLength(1);
    await h.settled();
    expect(await rowOf("wamid.concurrent-20")).toHaveLength(1);
    expect(h.inbound).toHaveLength(1);
    expect(h.inbound[0].sender).toBe("+250788123456");
    const [{ n }] = await db
      .sql`select count(*)::int as n from public.profiles where phone_number = '+250788123456'`;
    expect(n).toBe(1);
  });
});

describe("wa-webhook: a batch is one request", () => {
  it("records every message of every entry and change in order, answers 200, then runs the replies", async () => {
    const payload = fixture("text");
    const change = (id: string, from: string, body: string) => ({
      field: "messages",
      value: {
        messaging_product: "whatsapp",
        metadata: payload.entry[0].changes[0].value.metadata,
        contacts: [{ profile: { name: `Person ${from}` }, wa_id: from }],
        messages: [{ from, id, timestamp: "1749416383", type: "text", text: { body } }],
      },
    });
    const batch = {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "1",
          changes: [
            change("wamid.batch-1", "250788200001", "first"),
            change("wamid.batch-2", "250788200002", "second"),
          ],
        },
        {
          id: "2",
          changes: [{
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              messages: [
                {
                  from: "250788200001",
                  id: "wamid.batch-3",
                  timestamp: "1749416384",
                  type: "text",
                  text: { body: "third" },
                },
                {
                  from: "250788200001",
                  id: "wamid.batch-4",
                  timestamp: "1749416385",
                  type: "reaction",
                  reaction: { message_id: "wamid.batch-1", emoji: "👍" },
                },
              ],
              statuses: [{
                id: "wamid.not-ours",
                status: "delivered",
                timestamp: "1749416386",
                recipient_id: "250788200001",
              }],
            },
          }],
        },
      ],
    };
    // The reply path is held until the test has seen the response: the 200 must not wait for it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const h = createHarness({ db, onInbound: () => held });
    const raw = JSON.stringify(batch);
    const res = await h.handler(post(raw));
    expect(res.status).toBe(200);
    // The status is accepted into the status inbox; the worker finds it is not ours.
    expect((await res.json()).received).toMatchObject({ messages: 4, statuses: 1 });
    await h.derived();
    expect(h.log.lines.filter((l) => l.event === "WHATSAPP_STATUS_UNKNOWN_MESSAGE"))
      .toMatchObject([{ provider_message_id: "wamid.not-ours", status: "delivered" }]);
    const rows = await db.sql`
      select provider_message_id, body, sender from public.message_delivery_log
      where provider_message_id like 'wamid.batch-%' order by created_at, provider_message_id`;
    expect(rows.map((r) => r.provider_message_id)).toEqual([
      "wamid.batch-1",
      "wamid.batch-2",
      "wamid.batch-3",
      "wamid.batch-4",
    ]);
    expect(h.inbound.map((i) => i.sender)).toEqual(["+250788200001", "+250788200002"]);

    release();
    await h.settled();
    // Person 1's second message is answered after their first; the reaction needs no answer.
    expect(h.inbound.map((i) => i.sender)).toEqual([
      "+250788200001",
      "+250788200002",
      "+250788200001",
    ]);
    const events = h.events();
    expect(events.filter((e) => e === "WHATSAPP_MESSAGE_RECEIVED")).toHaveLength(4);
    expect(events).toContain("WHATSAPP_STATUS_UNKNOWN_MESSAGE");
  });

  it("records the valid messages of a batch and logs the malformed ones", async () => {
    const good = {
      from: "250788200010",
      id: "wamid.mixed-good",
      timestamp: "1749416383",
      type: "text",
      text: { body: "hello" },
    };
    const batch = {
      object: "whatsapp_business_account",
      entry: [{
        changes: [{
          field: "messages",
          value: {
            messages: [
              { from: "250788200010", id: "wamid.mixed-bad-1", type: "text", text: { body: 42 } },
              { from: "not-a-number", id: "wamid.mixed-bad-2", type: "text", text: { body: "x" } },
              good,
            ],
          },
        }],
      }],
    };
    const h = createHarness({ db });
    const res = await h.handler(post(JSON.stringify(batch)));
    expect(res.status).toBe(200);
    await h.settled();
    expect((await rowOf("wamid.mixed-good"))[0]).toMatchObject({
      body: "hello",
      sender: "+250788200010",
    });
    expect(await rowOf("wamid.mixed-bad-1")).toHaveLength(0);
    expect(
      h.log.lines.filter((l) => l.event === "WHATSAPP_MESSAGE_INVALID").map((l) =>
        l.provider_message_id
      ),
    )
      .toEqual(["wamid.mixed-bad-1", "wamid.mixed-bad-2"]);
  });
});

describe("wa-webhook: other payloads and failures", () => {
  it("acknowledges a valid JSON that is not a WhatsApp webhook with 200 and a log line, writing nothing", async () => {
    const h = createHarness({ db });
    const before = await countRows(db.sql);
    for (
      const body of [{ object: "page", entry: [] }, { hello: "world" }, [1, 2, 3], "text", null]
    ) {
      const raw = JSON.stringify(body);
      expect((await h.handler(post(raw))).status).toBe(200);
    }
    expect(await countRows(db.sql)).toEqual(before);
    expect(h.events().filter((e) => e === "WHATSAPP_WEBHOOK_IGNORED")).toHaveLength(5);
  });

  it("logs fields it does not handle (account updates, template status) and answers 200", async () => {
    const raw = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{
        id: "102290129340398",
        changes: [{ field: "message_template_status_update", value: { event: "APPROVED" } }],
      }],
    });
    const h = createHarness({ db });
    expect((await h.handler(post(raw))).status).toBe(200);
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_FIELD_IGNORED")).toMatchObject({
      field: "message_template_status_update",
    });
  });

  it("answers 503 when the database is unreachable, so Meta redelivers", async () => {
    const dead = createSql("postgres://postgres@127.0.0.1:1/postgres", { max: 1 });
    const h = createHarness({ db, sql: dead });
    const res = await h.handler(post(fixtureRaw("text")));
    expect(res.status).toBe(503);
    expect(h.inbound).toHaveLength(0);
    expect(h.events()).toContain("DATABASE_UNAVAILABLE");
    await dead.end();
  });

  it("a batch the database fails is 503 with nothing of it half-accepted; Meta's redelivery then records it once", async () => {
    const payload = fixture("text");
    const original = payload.entry[0].changes[0].value.messages[0];
    const first = { ...original, id: "wamid.cut-1" };
    const second = { ...original, id: "wamid.cut-2", text: { body: "and a second message" } };
    // Meta delivered the first message alone before: accepted, derived and answered.
    payload.entry[0].changes[0].value.messages = [first];
    const early = createHarness({ db });
    expect((await early.handler(post(JSON.stringify(payload)))).status).toBe(200);
    await early.settled();
    expect(early.inbound).toHaveLength(1);

    // The batch with both arrives while the database fails every statement.
    payload.entry[0].changes[0].value.messages = [first, second];
    const raw = JSON.stringify(payload);
    // Only statements count: rpc() also calls sql`…` to build the fragments (named arguments)
    // of the one statement it sends.
    const isStatement = (first: unknown) =>
      Array.isArray(first) && /^\s*(select|insert|update|delete|with)\b/i.test(String(first[0]));
    const flaky = new Proxy(db.sql, {
      apply(target, self, args) {
        if (isStatement(args[0])) {
          return Promise.reject(
            Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" }),
          );
        }
        return Reflect.apply(target, self, args);
      },
    });
    const cut = createHarness({ db, sql: flaky });
    expect((await cut.handler(post(raw))).status).toBe(503);
    await cut.settled();
    expect(cut.inbound).toHaveLength(0);
    expect(
      await db.sql`select 1 from public.inbound_inbox where provider_message_id = ${second.id}`,
    )
      .toHaveLength(0);

    // Redelivered: the first is a duplicate, the second is new; redelivered again: both are.
    const retried = createHarness({ db });
    const res = await retried.handler(post(raw));
    expect(res.status).toBe(200);
    expect((await res.json()).received).toMatchObject({ messages: 1, duplicates: 1 });
    await retried.settled();
    const again = createHarness({ db });
    const res2 = await again.handler(post(raw));
    expect((await res2.json()).received).toMatchObject({ messages: 0, duplicates: 2 });
    await again.settled();
    const rows = await db
      .sql`select id, provider_message_id, reply_state from public.message_delivery_log
      where provider_message_id in (${first.id}, ${second.id}) order by provider_message_id`;
    expect(rows.map((r) => r.provider_message_id)).toEqual([first.id, second.id]);
    // One AI reply asked per message, none doubled.
    expect(retried.inbound.map((i) => i.deliveryId)).toEqual([rows[1].id]);
    expect(again.inbound).toHaveLength(0);
  });
});
