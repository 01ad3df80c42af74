import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeMeta,
  graphError,
  refusedUrl,
  startFakeMeta,
} from "../../../../tests/support/fake-providers.ts";
import { createMetaAdapter, type MetaMessage } from "./meta.ts";
import type { SendResult } from "../outbound/adapter.ts";
import { loadConfig } from "../config.ts";
import { createSenderDirectory } from "../outbound/senders.ts";

let fake: FakeMeta;
beforeAll(async () => {
  fake = await startFakeMeta();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const messenger = (over: { token?: string } = {}) =>
  createMetaAdapter({
    channel: "messenger",
    baseUrl: fake.baseUrl,
    accessToken: "token" in over ? over.token : fake.pageToken,
  });
const instagram = () =>
  createMetaAdapter({
    channel: "instagram",
    baseUrl: fake.baseUrl,
    accessToken: fake.instagramToken,
  });
const RESPONSE = { type: "RESPONSE" } as const;
const HUMAN_AGENT = { type: "MESSAGE_TAG", tag: "HUMAN_AGENT" } as const;

const failureOf = (r: SendResult) => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("Meta adapter: the Send API requests", () => {
  it("sends a text as a RESPONSE with the page token and returns the message id", async () => {
    const r = await messenger().send(
      "6712458890123456",
      { kind: "text", text: "Hello" },
      RESPONSE,
      {
        deliveryId: "0b6b2a3c-1111-4222-8333-444455556666",
      },
    );
    expect(r).toEqual({ ok: true, provider: "messenger", providerMessageId: expect.any(String) });
    const [req] = fake.requests;
    expect(req.path).toBe("/v21.0/me/messages");
    expect(req.headers.authorization).toBe(`Bearer ${fake.pageToken}`);
    expect(req.json).toEqual({
      recipient: { id: "6712458890123456" },
      messaging_type: "RESPONSE",
      message: { text: "Hello", metadata: "0b6b2a3c-1111-4222-8333-444455556666" },
    });
  });

  it("tags a message HUMAN_AGENT outside the 24 h window; Instagram carries no metadata", async () => {
    await instagram().send(
      "1188734505712345",
      { kind: "text", text: "Still there?" },
      HUMAN_AGENT,
      {
        deliveryId: "0b6b2a3c-1111-4222-8333-444455556666",
      },
    );
    expect(fake.requests[0].json).toEqual({
      recipient: { id: "1188734505712345" },
      messaging_type: "MESSAGE_TAG",
      tag: "HUMAN_AGENT",
      message: { text: "Still there?" },
    });
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${fake.instagramToken}`);
  });

  it("splits a long Messenger text at words into messages of at most 2,000 characters", async () => {
    const text = Array.from({ length: 700 }, (_, i) => `word${i}`).join(" ");
    const r = await messenger().send("psid", { kind: "text", text }, RESPONSE);
    expect(r.ok).toBe(true);
    const texts = fake.requests.map((q) => (q.json as { message: { text: string } }).message.text);
    expect(texts.length).toBeGreaterThan(1);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(2000);
    expect(texts.join(" ")).toBe(text);
    expect(texts.every((t) => !/^\s|\s$/.test(t))).toBe(true);
  });

  it("keeps an Instagram text within 1,000 characters per message, three messages at most", async () => {
    const text = "x ".repeat(3000).trim();
    await instagram().send("igsid", { kind: "text", text }, RESPONSE);
    const texts = fake.requests.map((q) => (q.json as { message: { text: string } }).message.text);
    expect(texts).toHaveLength(3);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(1000);
    expect(texts[2].endsWith("…")).toBe(true);
  });

  it("caps quick replies at 13 with titles of 20 characters, on the last part only", async () => {
    const quickReplies = [
      ...Array.from({ length: 15 }, (_, i) => ({
        type: "text" as const,
        title: `A rather long option number ${i}`,
        payload: `OPT_${i}`,
      })),
    ];
    await messenger().send("psid", {
      kind: "text",
      text: "Pick one",
      quickReplies: [{ type: "user_phone_number" }, ...quickReplies],
    }, RESPONSE);
    const q = (fake.requests[0].json as {
      message: { quick_replies: { content_type: string; title: string }[] };
    }).message
      .quick_replies;
    expect(q).toHaveLength(13);
    expect(q[0]).toEqual({ content_type: "user_phone_number" });
    for (const item of q.slice(1)) {
      expect(item.content_type).toBe("text");
      expect(item.title.length).toBeLessThanOrEqual(20);
    }
  });

  it("sends attachments by URL, button and generic templates", async () => {
    const messages: MetaMessage[] = [
      { kind: "attachment", type: "image", url: "https://example.org/a.png" },
      {
        kind: "button_template",
        text: "What next?",
        buttons: [
          { type: "postback", title: "Track my order", payload: "TRACK" },
          { type: "web_url", title: "Open the website please", url: "https://example.org" },
        ],
      },
      {
        kind: "generic_template",
        elements: [{
          title: "Spring offer",
          subtitle: "20% off",
          imageUrl: "https://example.org/b.png",
          buttons: [{ type: "postback", title: "Yes", payload: "OFFER_YES" }],
        }],
      },
    ];
    for (const m of messages) expect((await messenger().send("psid", m, RESPONSE)).ok).toBe(true);
    const bodies = fake.requests.map((q) => (q.json as { message: unknown }).message);
    expect(bodies[0]).toEqual({
      attachment: {
        type: "image",
        payload: { url: "https://example.org/a.png", is_reusable: true },
      },
    });
    expect(bodies[1]).toMatchObject({
      attachment: {
        type: "template",
        payload: {
          template_type: "button",
          text: "What next?",
          buttons: [
            { type: "postback", title: "Track my order", payload: "TRACK" },
            { type: "web_url", title: "Open the website…", url: "https://example.org" },
          ],
        },
      },
    });
    expect(bodies[2]).toMatchObject({
      attachment: { payload: { template_type: "generic", elements: [{ title: "Spring offer" }] } },
    });
  });

  it("sends sender actions (mark_seen, typing_on, typing_off)", async () => {
    for (const a of ["mark_seen", "typing_on", "typing_off"] as const) {
      expect((await messenger().senderAction("psid", a)).ok).toBe(true);
    }
    expect(fake.requests.map((q) => q.json)).toEqual([
      { recipient: { id: "psid" }, sender_action: "mark_seen" },
      { recipient: { id: "psid" }, sender_action: "typing_on" },
      { recipient: { id: "psid" }, sender_action: "typing_off" },
    ]);
  });

  it("reads the Messenger and Instagram profiles, and null when Meta refuses", async () => {
    fake.profiles.set("psid-1", {
      first_name: "Sheena",
      last_name: "Nelson",
      profile_pic: "https://p/1",
    });
    fake.profiles.set("igsid-1", {
      name: "Sheena N",
      username: "sheena.n",
      profile_pic: "https://p/2",
    });
    expect(await messenger().profile("psid-1")).toEqual({
      name: "Sheena Nelson",
      profilePic: "https://p/1",
    });
    expect(fake.requests[0].query.fields).toBe("first_name,last_name,profile_pic");
    expect(await instagram().profile("igsid-1")).toEqual({
      name: "Sheena N",
      username: "sheena.n",
      profilePic: "https://p/2",
    });
    expect(await messenger().profile("nobody")).toBeNull();
  });
});

describe("Meta adapter: Graph errors in the failure classes", () => {
  const cases: [string, ReturnType<typeof graphError>, Record<string, unknown>][] = [
    ["4 app rate limit", graphError(4, "(#4) Application request limit reached"), {
      class: "retryable",
      throttled: true,
    }],
    [
      "613 calls within one hour",
      graphError(613, "Calls to this api have exceeded the rate limit."),
      {
        class: "retryable",
        throttled: true,
      },
    ],
    ["32 page rate limit", graphError(32, "Page request limit reached"), {
      class: "retryable",
      throttled: true,
    }],
    ["'too many' in the words", graphError(100, "Too many messages sent to this user"), {
      class: "retryable",
      throttled: true,
    }],
    ["10 permission", graphError(10, "(#10) Requires pages_messaging permission"), {
      class: "permanent",
      code: "10",
    }],
    ["200 permission", graphError(200, "(#200) Permissions error"), { class: "permanent" }],
    ["551 unavailable", graphError(551, "This person isn't available right now."), {
      class: "permanent",
      notOnChannel: true,
    }],
    [
      "2018278 outside the window",
      graphError(10, "(#10) This message is sent outside of allowed window.", { subcode: 2018278 }),
      { class: "window_closed", code: "2018278" },
    ],
    ["190 token", graphError(190, "Error validating access token", { status: 401 }), {
      class: "permanent",
      code: "190",
    }],
    ["a 500 without a Graph body", { status: 502, raw: "Bad gateway" }, {
      class: "retryable",
      code: "HTTP_502",
    }],
  ];
  for (const [name, reply, expected] of cases) {
    it(name, async () => {
      fake.replyNext(reply);
      const error = failureOf(
        await messenger().send("psid", { kind: "text", text: "x" }, RESPONSE),
      );
      expect(error).toMatchObject(expected);
    });
  }

  it("a wrong token is refused by Meta (190), a missing one before any call", async () => {
    expect(
      failureOf(
        await messenger({ token: "nope" }).send("p", { kind: "text", text: "x" }, RESPONSE),
      ),
    )
      .toMatchObject({ class: "permanent", code: "190" });
    fake.reset();
    expect(
      failureOf(
        await messenger({ token: undefined }).send("p", { kind: "text", text: "x" }, RESPONSE),
      ),
    )
      .toMatchObject({ code: "CHANNEL.NOT_CONFIGURED" });
    expect(fake.requests).toHaveLength(0);
  });

  it("an unreachable Graph API is a retryable network failure", async () => {
    const a = createMetaAdapter({
      channel: "messenger",
      baseUrl: await refusedUrl(),
      accessToken: "t",
    });
    expect(failureOf(await a.send("p", { kind: "text", text: "x" }, RESPONSE)).class).toBe(
      "retryable",
    );
  });

  it("a later part failing after the first was sent is permanent (no resend of the first)", async () => {
    fake.replyNext(
      { status: 200, body: { recipient_id: "p", message_id: "m_first" } },
      graphError(2, "Temporary issue"),
    );
    const text = "y ".repeat(1500).trim();
    const error = failureOf(await messenger().send("p", { kind: "text", text }, RESPONSE));
    expect(error).toMatchObject({ class: "permanent" });
    expect(error.message).toMatch(/Only 1 of 2 parts/);
  });
});

describe("Meta senders: the messaging window decided at send time", () => {
  const HOUR = 3600_000;
  const NOW = Date.parse("2026-11-30T12:00:00Z");
  const senders = () =>
    createSenderDirectory(
      loadConfig({
        SUPABASE_DB_URL: "postgres://x",
        META_GRAPH_BASE_URL: fake.baseUrl,
        MESSENGER_PAGE_ACCESS_TOKEN: fake.pageToken,
        INSTAGRAM_ACCESS_TOKEN: fake.instagramToken,
      }),
      { now: () => NOW },
    );
  const row = (channel: string, hoursAgo: number | null) => ({
    id: "0b6b2a3c-1111-4222-8333-444455556666",
    channel,
    recipient: "person",
    body: "Your order shipped",
    message_type: "text",
    metadata: hoursAgo === null
      ? {}
      : { last_inbound_at: new Date(NOW - hoursAgo * HOUR).toISOString() },
    sender_key: null,
  });

  for (const channel of ["messenger", "instagram"] as const) {
    it(`${channel}: RESPONSE inside 24 h`, async () => {
      const s = senders().resolve(channel)!;
      expect(s.key).toBe(`${channel}:default`);
      expect((await s.send(row(channel, 23.9))).ok).toBe(true);
      expect(fake.requests[0].json).toMatchObject({ messaging_type: "RESPONSE" });
    });

    it(`${channel}: HUMAN_AGENT between 24 h and 7 days`, async () => {
      const s = senders().resolve(channel)!;
      expect((await s.send(row(channel, 24.1))).ok).toBe(true);
      expect((await s.send(row(channel, 7 * 24 - 0.1))).ok).toBe(true);
      for (const q of fake.requests) {
        expect(q.json).toMatchObject({ messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT" });
      }
    });

    it(`${channel}: refused as window_closed after 7 days, or never written, with no call`, async () => {
      const s = senders().resolve(channel)!;
      for (const r of [row(channel, 7 * 24 + 0.1), row(channel, null)]) {
        expect(failureOf(await s.send(r))).toMatchObject({
          class: "window_closed",
          code: "META.WINDOW_CLOSED",
        });
      }
      expect(fake.requests).toHaveLength(0);
    });
  }
});
