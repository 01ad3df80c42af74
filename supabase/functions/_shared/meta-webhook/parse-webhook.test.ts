import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MetaEvent, parseMetaWebhook } from "./parse-webhook.ts";

const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../tests/fixtures/meta");
const fixture = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
const only = (name: string): MetaEvent => {
  const parsed = parseMetaWebhook(fixture(name), "corr-1");
  if (!parsed.isMeta) throw new Error(`${name} is not a Meta webhook`);
  expect(parsed.events).toHaveLength(1);
  return parsed.events[0];
};
const message = (name: string) => {
  const e = only(name);
  if (e.kind !== "message") throw new Error(`${name}: ${e.kind}`);
  return e;
};

describe("Meta webhook parser: Messenger (object page)", () => {
  it("a text message from a PSID", () => {
    const { message: m } = message("messenger/text");
    expect(m).toMatchObject({
      channel: "messenger",
      sender: "6712458890123456",
      provider: "messenger",
      providerMessageId: "m_msgr_text_01",
      messageType: "text",
      body: "Hi, is my order on its way?",
      needsReply: true,
    });
    expect(m.metadata?.sent_at).toBe("2025-11-29T23:00:00.000Z");
  });

  it("a quick reply reaches the agent as what the person chose", () => {
    const { message: m } = message("messenger/quick-reply");
    expect(m).toMatchObject({
      messageType: "quick_reply",
      body: "[chose: Yes please (CONFIRM_YES)]",
      metadata: { quick_reply_payload: "CONFIRM_YES" },
    });
  });

  it("a shared phone number or email is an identity to link", () => {
    expect(message("messenger/quick-reply-phone").shared).toEqual({
      kind: "phone",
      value: "+16505551234",
    });
    expect(message("messenger/quick-reply-email").shared).toEqual({
      kind: "email",
      value: "sheena@example.com",
    });
  });

  it("every attachment type, described for the agent, URLs kept", () => {
    const expected: Record<string, [string, string]> = {
      "attachment-image": ["image", "[image]"],
      "attachment-audio": ["audio", "[audio]"],
      "attachment-video": ["video", "[video]"],
      "attachment-file": ["file", "[file]"],
      "attachment-sticker": ["sticker", "[sticker]"],
      "attachment-fallback": ["fallback", "[link: Spring offer] https://example.org/offer"],
      "attachment-reel": ["reel", "[reel]"],
    };
    for (const [name, [type, body]] of Object.entries(expected)) {
      const { message: m } = message(`messenger/${name}`);
      expect({ name, type: m.messageType, body: m.body }).toEqual({ name, type, body });
      expect((m.metadata?.attachments as unknown[]).length).toBe(1);
    }
  });

  it("reply_to is kept with the message", () => {
    expect(message("messenger/reply-to").message.metadata?.reply_to).toEqual({
      mid: "m_msgr_earlier_01",
    });
  });

  it("postbacks (with their referral) are the person's choice, keyed by their mid", () => {
    expect(message("messenger/postback").message).toMatchObject({
      providerMessageId: "m_msgr_postback_01",
      messageType: "postback",
      body: "[chose: Track my order (TRACK_ORDER)]",
      needsReply: true,
    });
    expect(message("messenger/postback-referral").message.metadata?.referral).toMatchObject({
      ref: "spring-campaign",
    });
  });

  it("a postback with an empty mid is keyed by its sender and time, never by an empty id", () => {
    const body = fixture("instagram/postback");
    body.entry[0].messaging[0].postback.mid = "";
    const parsed = parseMetaWebhook(body, "corr-1");
    if (!parsed.isMeta || parsed.events[0].kind !== "message") throw new Error("not a message");
    expect(parsed.events[0].message.providerMessageId).toMatch(/^postback:\d+:/);
  });

  it("referrals, reactions and unreactions are recorded without a reply", () => {
    for (const name of ["referral", "reaction", "unreact"]) {
      expect(message(`messenger/${name}`).message.needsReply).toBe(false);
    }
    expect(message("messenger/reaction").message.body).toBe("[reacted ❤️]");
    expect(message("messenger/unreact").message.body).toBe("[removed a reaction]");
    expect(message("messenger/reaction").message.providerMessageId).not.toBe(
      message("messenger/unreact").message.providerMessageId,
    );
  });

  it("delivery and read receipts carry their watermark", () => {
    expect(only("messenger/delivery")).toEqual({
      kind: "receipt",
      update: {
        channel: "messenger",
        person: "6712458890123456",
        status: "delivered",
        watermark: 1764457260000,
        mids: ["m_msgr_out_01"],
      },
    });
    expect(only("messenger/read")).toMatchObject({
      kind: "receipt",
      update: { status: "read", watermark: 1764457320000, mids: [] },
    });
  });

  it("an echo is the page's own message to the person", () => {
    expect(only("messenger/echo")).toMatchObject({
      kind: "echo",
      echo: { channel: "messenger", recipient: "6712458890123456", mid: "m_msgr_echo_01" },
    });
  });

  it("an unknown event is a note", () => {
    expect(only("messenger/unknown-event")).toMatchObject({
      kind: "note",
      event: "META_EVENT_IGNORED",
    });
  });
});

describe("Meta webhook parser: Instagram (object instagram)", () => {
  it("text, media and shares from an IGSID", () => {
    expect(message("instagram/text").message).toMatchObject({
      channel: "instagram",
      sender: "1188734505712345",
      body: "Do you ship to Kigali?",
    });
    const expected: Record<string, string> = {
      "attachment-image": "image",
      "attachment-video": "video",
      "attachment-audio": "audio",
      "attachment-file": "file",
      "attachment-share": "share",
      "attachment-ig-post": "ig_post",
      "attachment-ig-reel": "ig_reel",
      "attachment-story-mention": "story_mention",
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(message(`instagram/${name}`).message.messageType).toBe(type);
    }
    expect(message("instagram/attachment-ig-reel").message.body).toBe(
      "[reel: Our spring collection]",
    );
  });

  it("a reply to a story, quick replies and postbacks", () => {
    expect(message("instagram/reply-to-story").message.metadata?.reply_to).toMatchObject({
      story: { id: "17920371428145521" },
    });
    expect(message("instagram/quick-reply").message.body).toBe("[chose: Size M (SIZE_M)]");
    expect(message("instagram/postback").message.body).toBe("[chose: Talk to us (TALK_TO_US)]");
  });

  it("messaging_seen is a read receipt for that message and everything before", () => {
    expect(only("instagram/seen")).toEqual({
      kind: "receipt",
      update: {
        channel: "instagram",
        person: "1188734505712345",
        status: "read",
        watermark: 1764457320000,
        mids: ["aWdfZAG1_out_01"],
      },
    });
  });

  it("reactions, referrals, unsupported and deleted messages", () => {
    expect(message("instagram/reaction").message.needsReply).toBe(false);
    expect(message("instagram/unreact").message.body).toBe("[removed a reaction]");
    expect(message("instagram/referral").message.messageType).toBe("referral");
    expect(message("instagram/unsupported").message).toMatchObject({
      messageType: "unsupported",
      body: "[unsupported message]",
    });
    expect(only("instagram/deleted")).toMatchObject({
      kind: "note",
      event: "META_MESSAGE_DELETED",
    });
  });

  it("an echo without our metadata", () => {
    const e = only("instagram/echo");
    expect(e).toMatchObject({ kind: "echo", echo: { recipient: "1188734505712345" } });
    expect(e.kind === "echo" && e.echo.ourDeliveryId).toBeFalsy();
  });
});

describe("Meta webhook parser: properties over the envelope", () => {
  const names = ["messenger", "instagram"].flatMap((d) =>
    readdirSync(join(dir, d)).filter((f) => f.endsWith(".json")).map((f) =>
      `${d}/${f.slice(0, -5)}`
    )
  );

  it("never throws, whatever JSON arrives", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseMetaWebhook(value, "c");
      }),
      { numRuns: 500 },
    );
  });

  it("never throws when any field of a real event is replaced by anything", () => {
    const paths = (v: unknown, p: (string | number)[] = []): (string | number)[][] =>
      v === null || typeof v !== "object" ? [] : Object.entries(v).flatMap(([k, x]) => {
        const q = [...p, Array.isArray(v) ? Number(k) : k];
        return [q, ...paths(x, q)];
      });
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.nat(),
        fc.jsonValue(),
        (name, pick, replacement) => {
          const payload = fixture(name);
          const all = paths(payload);
          const path = all[pick % all.length];
          let at = payload;
          for (const k of path.slice(0, -1)) at = at[k];
          at[path[path.length - 1]] = replacement;
          const parsed = parseMetaWebhook(payload, "c");
          if (parsed.isMeta) {
            for (const e of parsed.events) {
              if (e.kind === "message") {
                expect(typeof e.message.providerMessageId).toBe("string");
                expect(e.message.providerMessageId.length).toBeGreaterThan(0);
              }
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("many events in many entries come out in order, one per messaging item", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...names.filter((n) => n.startsWith("messenger/"))), {
          minLength: 1,
          maxLength: 8,
        }),
        (picked) => {
          const entries = picked.map((n) => fixture(n).entry[0]);
          const parsed = parseMetaWebhook({ object: "page", entry: entries }, "c");
          expect(parsed.isMeta && parsed.events.length).toBe(picked.length);
        },
      ),
    );
  });

  it("any other object is not ours", () => {
    expect(parseMetaWebhook({ object: "whatsapp_business_account", entry: [] }, "c")).toEqual({
      isMeta: false,
      object: "whatsapp_business_account",
    });
  });
});
