import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { smsKeywordOf } from "../../supabase/functions/_shared/sms-inbound/keywords.ts";
import {
  parseMtnInbound,
  parseMtnReceipt,
} from "../../supabase/functions/_shared/sms-inbound/mtn.ts";
import { smsSenderToE164 } from "../../supabase/functions/_shared/phone.ts";
import { providerOf, routeOf } from "../../supabase/functions/_shared/sms-inbound/route.ts";
import {
  parseForm,
  parseTwilioInbound,
  parseTwilioStatus,
} from "../../supabase/functions/_shared/sms-inbound/twilio.ts";
import { countSegments } from "../../supabase/functions/_shared/notifications/sms-segments.ts";
import { KEYWORD_REPLIES } from "../../supabase/functions/_shared/sms-inbound/keywords.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const form = (o: Record<string, string>) => parseForm(bytes(new URLSearchParams(o).toString()));

describe("SMS keywords", () => {
  it("recognises the whole message, case-insensitive and trimmed", () => {
    for (
      const w of [
        "STOP",
        "stop",
        "  Stop\n",
        "STOPALL",
        "unsubscribe",
        "End",
        "QUIT",
        "cancel",
        "OPTOUT",
        "revoke",
        "Stop.",
      ]
    ) {
      expect(smsKeywordOf(w)?.action, w).toBe("stop");
    }
    for (const w of ["START", "unstop", "Yes"]) expect(smsKeywordOf(w)?.action, w).toBe("start");
    for (const w of ["HELP", "info", " Help! "]) expect(smsKeywordOf(w)?.action, w).toBe("help");
  });

  it("ignores keywords inside a sentence and other words", () => {
    for (
      const w of [
        "please stop",
        "stop it",
        "STOP STOP",
        "helpful",
        "",
        "   ",
        "constructor",
        "__proto__",
        "toString",
      ]
    ) {
      expect(smsKeywordOf(w), w).toBeNull();
    }
  });

  it("marks YES as a keyword only for people who opted out (it is also an everyday answer)", () => {
    expect(smsKeywordOf("yes")?.onlyWhenOptedOut).toBe(true);
    expect(smsKeywordOf("START")?.onlyWhenOptedOut).toBe(false);
  });

  it("answers each keyword in one GSM-7 segment", () => {
    for (const text of Object.values(KEYWORD_REPLIES)) {
      expect(countSegments(text)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    }
  });
});

describe("smsSenderToE164", () => {
  it("reads the ways gateways write a number", () => {
    expect(smsSenderToE164("+250788123456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("250788123456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("tel:+250788123456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("00250788123456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("0788 123 456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("+1 (415) 867-5309", "RW")).toBe("+14158675309");
  });

  it("refuses what is not a person's number", () => {
    for (
      const s of ["MTN", "whatsapp:+14158675309", "", "+0123456789", "12345", "+1234567890123456"]
    ) {
      expect(smsSenderToE164(s, "RW"), s).toBeNull();
    }
  });
});

describe("routeOf / providerOf", () => {
  it("routes inbound and status paths, with or without a provider", () => {
    expect(routeOf("/sms-inbound")).toEqual({
      kind: "inbound",
      provider: undefined,
      signedPath: "/sms-inbound",
    });
    expect(routeOf("/sms-inbound/twilio")).toMatchObject({ kind: "inbound", provider: "twilio" });
    expect(routeOf("/sms-inbound/mtn")).toMatchObject({ kind: "inbound", provider: "mtn" });
    expect(routeOf("/sms-inbound/status")).toMatchObject({ kind: "status", provider: undefined });
    expect(routeOf("/sms-inbound/status/twilio")).toMatchObject({
      kind: "status",
      provider: "twilio",
    });
    expect(routeOf("/functions/v1/sms-inbound/status/mtn")).toEqual({
      kind: "status",
      provider: "mtn",
      signedPath: "/sms-inbound/status/mtn",
    });
  });

  it("answers 404 for anything else", () => {
    for (
      const p of ["/sms-inbound/other", "/sms-inbound/mtn/status/x", "/sms-inbound/status/whatsapp"]
    ) {
      expect(() => routeOf(p), p).toThrow(expect.objectContaining({ status: 404 }));
    }
  });

  it("tells providers apart by signature header, then content type", () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(providerOf(h({ "x-twilio-signature": "x", "content-type": "application/json" }))).toBe(
      "twilio",
    );
    expect(providerOf(h({ "x-mtn-signature": "x" }))).toBe("mtn");
    expect(providerOf(h({ "content-type": "application/x-www-form-urlencoded; charset=utf-8" })))
      .toBe("twilio");
    expect(providerOf(h({ "content-type": "application/json" }))).toBe("mtn");
    expect(providerOf(h({ "content-type": "text/plain" }))).toBeNull();
  });
});

describe("MTN-style gateway payloads", () => {
  it("reads an inbound SMS with its id", async () => {
    const sms = await parseMtnInbound(
      bytes('{"from":"250788123456","to":"4040","message":"Hi","id":"mo-1"}'),
    );
    expect(sms).toEqual({
      provider: "mtn",
      providerMessageId: "mo-1",
      from: "250788123456",
      body: "Hi",
      messageType: "text",
      metadata: { to: "4040" },
    });
  });

  it("derives a stable id from the raw bytes when the gateway sends none", async () => {
    const raw = '{"from":250788123456,"message":"Hi"}';
    const a = await parseMtnInbound(bytes(raw));
    expect(a.providerMessageId).toBe(`sha256:${createHash("sha256").update(raw).digest("hex")}`);
    expect(a.from).toBe("250788123456");
    expect((await parseMtnInbound(bytes(raw))).providerMessageId).toBe(a.providerMessageId);
    expect((await parseMtnInbound(bytes(raw.replace("Hi", "Ho")))).providerMessageId).not.toBe(
      a.providerMessageId,
    );
  });

  it("refuses a body without from or message, naming the field (400)", async () => {
    await expect(parseMtnInbound(bytes('{"message":"x"}'))).rejects.toMatchObject({
      status: 400,
      details: { field: "from" },
    });
    await expect(parseMtnInbound(bytes('{"from":"+250788123456"}'))).rejects.toMatchObject({
      status: 400,
    });
    await expect(parseMtnInbound(bytes("[1]"))).rejects.toMatchObject({ status: 400 });
    await expect(parseMtnInbound(bytes('{"from":"\\u0000","message":"x"}'))).rejects.toMatchObject({
      status: 400,
    });
  });

  it("caps message like Twilio's Body: 16,000 characters pass, one more is a 400 naming message", async () => {
    const msg = (n: number) =>
      bytes(JSON.stringify({ from: "250788123456", message: "x".repeat(n) }));
    expect((await parseMtnInbound(msg(16_000))).body).toHaveLength(16_000);
    await expect(parseMtnInbound(msg(16_001))).rejects.toMatchObject({
      status: 400,
      details: { field: "message" },
    });
    await expect(parseMtnInbound(msg(1024 * 1024 - 64))).rejects.toMatchObject({ status: 400 });
  });

  it("maps OneAPI delivery statuses", () => {
    const r = (o: object) => parseMtnReceipt(bytes(JSON.stringify(o)));
    expect(r({ requestId: "r1", deliveryStatus: "DeliveredToTerminal" })).toMatchObject({
      status: "delivered",
      providerMessageIds: ["r1"],
    });
    expect(r({ transactionId: "t1", deliveryStatus: "DeliveredToNetwork" })).toMatchObject({
      status: "sent",
      providerMessageIds: ["t1"],
    });
    expect(
      r({ requestId: "r1", transactionId: "t1", deliveryStatus: "MessageWaiting" })
        .providerMessageIds,
    ).toEqual(["r1", "t1"]);
    expect(r({ requestId: "r1", deliveryStatus: "DeliveryUncertain" }).status).toBeNull();
    expect(r({ requestId: "r1", deliveryStatus: "SomethingNew" }).status).toBeNull();
    expect(r({ requestId: "r1", deliveryStatus: "DeliveryImpossible" })).toMatchObject({
      status: "failed",
      errorCode: "DeliveryImpossible",
      errorClass: "permanent",
    });
    expect(() => r({ deliveryStatus: "DeliveredToTerminal" })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});

describe("Twilio payloads", () => {
  it("reads an MMS: media recorded by URL and type, described for the AI when there is no text", () => {
    const sms = parseTwilioInbound(form({
      MessageSid: "MM0123456789abcdef0123456789abcdef",
      From: "+14158675309",
      To: "+15005550006",
      Body: "",
      NumMedia: "2",
      MediaUrl0: "https://api.twilio.com/m/0",
      MediaContentType0: "image/jpeg",
      MediaUrl1: "https://api.twilio.com/m/1",
      MediaContentType1: "application/pdf",
    }));
    expect(sms.messageType).toBe("image");
    expect(sms.body).toBe("[image: image/jpeg] [document: application/pdf]");
    expect(sms.metadata.media).toEqual([
      { url: "https://api.twilio.com/m/0", content_type: "image/jpeg" },
      { url: "https://api.twilio.com/m/1", content_type: "application/pdf" },
    ]);
  });

  it("falls back to SmsSid / SmsStatus, and classifies delivery error codes", () => {
    expect(parseTwilioStatus(form({ SmsSid: "SM1", SmsStatus: "delivered" }))).toMatchObject({
      providerMessageIds: ["SM1"],
      status: "delivered",
    });
    expect(
      parseTwilioStatus(
        form({ MessageSid: "SM1", MessageStatus: "undelivered", ErrorCode: "30003" }),
      ),
    )
      .toMatchObject({ status: "failed", errorCode: "30003", errorClass: "retryable" });
    expect(
      parseTwilioStatus(form({ MessageSid: "SM1", MessageStatus: "failed", ErrorCode: "30007" })),
    )
      .toMatchObject({ status: "failed", errorCode: "30007", errorClass: "permanent" });
    expect(parseTwilioStatus(form({ MessageSid: "SM1", MessageStatus: "sending" })).status)
      .toBeNull();
  });

  it("refuses a form without MessageSid or From, and a body that is not UTF-8 (400)", () => {
    expect(() => parseTwilioInbound(form({ From: "+14158675309", Body: "x" }))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect(() => parseTwilioInbound(form({ MessageSid: "SM1", Body: "x" }))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect(() => parseForm(new Uint8Array([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff]))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});
