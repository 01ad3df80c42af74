import { afterEach, describe, expect, it, vi } from "vitest";
import { createResendVerifier, signResendWebhook } from "./verify.ts";
import { newText } from "./handle-received.ts";
import { parseMailbox } from "./events.ts";

/** Standard Webhooks' published test vector (libraries' shared `sign` case). */
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const svix = (over: Record<string, string> = {}) =>
  new Headers({
    "svix-id": VECTOR.id,
    "svix-timestamp": String(VECTOR.timestamp),
    "svix-signature": VECTOR.signature,
    ...over,
  });

afterEach(() => vi.useRealTimers());
const at = (seconds: number) => {
  vi.useFakeTimers();
  vi.setSystemTime(seconds * 1000);
};

describe("Resend webhook signatures (Standard Webhooks test vectors)", () => {
  const verify = createResendVerifier(VECTOR.secret);

  it("signs the vector to the published signature", () => {
    expect(
      signResendWebhook(
        VECTOR.secret,
        VECTOR.id,
        new Date(VECTOR.timestamp * 1000),
        VECTOR.payload,
      ),
    ).toEqual({
      "svix-id": VECTOR.id,
      "svix-timestamp": String(VECTOR.timestamp),
      "svix-signature": VECTOR.signature,
    });
  });

  it("accepts the vector at its time, under svix-* or webhook-* names, among other signatures", () => {
    at(VECTOR.timestamp + 10);
    expect(verify(VECTOR.payload, svix())).toEqual({
      ok: true,
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
    });
    const unbranded = new Headers({
      "webhook-id": VECTOR.id,
      "webhook-timestamp": String(VECTOR.timestamp),
      "webhook-signature": VECTOR.signature,
    });
    expect(verify(VECTOR.payload, unbranded).ok).toBe(true);
    const several = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,x ${VECTOR.signature}`;
    expect(verify(VECTOR.payload, svix({ "svix-signature": several })).ok).toBe(true);
  });

  it("refuses a changed body, id, timestamp or signature", () => {
    at(VECTOR.timestamp);
    const refused = { ok: false, reason: "bad_signature" };
    expect(verify('{"test": 2432232315}', svix())).toEqual(refused);
    expect(verify(VECTOR.payload, svix({ "svix-id": "msg_other" }))).toEqual(refused);
    expect(verify(VECTOR.payload, svix({ "svix-timestamp": String(VECTOR.timestamp + 1) })))
      .toEqual(refused);
    expect(verify(VECTOR.payload, svix({ "svix-signature": "v1,dawfeoifkpqwoekfpqoekf" })))
      .toEqual(refused);
    expect(verify(VECTOR.payload, svix({ "svix-signature": VECTOR.signature.slice(0, 8) })))
      .toEqual(refused);
    expect(verify(VECTOR.payload, new Headers({ "svix-id": VECTOR.id }))).toEqual({
      ok: false,
      reason: "missing_headers",
    });
  });

  it("refuses a timestamp more than 5 minutes old or ahead", () => {
    at(VECTOR.timestamp + 5 * 60 + 1);
    expect(verify(VECTOR.payload, svix())).toEqual({ ok: false, reason: "stale" });
    at(VECTOR.timestamp - 5 * 60 - 1);
    expect(verify(VECTOR.payload, svix())).toEqual({ ok: false, reason: "stale" });
  });

  it("refuses a signature made with another secret", () => {
    at(VECTOR.timestamp);
    const other = createResendVerifier("whsec_" + btoa("another secret of ours"));
    expect(other(VECTOR.payload, svix())).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("the new text of a reply", () => {
  it("drops the quoted thread and the signature", () => {
    const text = [
      "Yes, Tuesday at 10 works for me.",
      "",
      "-- ",
      "Ada Lovelace",
      "Analytical Engines Ltd",
      "",
      "On Mon, Nov 30, 2026 at 9:00 AM Acme Support <support@acme.test> wrote:",
      "> Would Tuesday suit you?",
      "> ",
      "> Acme",
    ].join("\n");
    expect(newText({ text, attachments: [] })).toBe("Yes, Tuesday at 10 works for me.");
  });

  it("names the attachments of an email without text", () => {
    expect(newText({ text: "", attachments: [{ filename: "invoice.pdf", contentType: null }] }))
      .toBe("[attachments: invoice.pdf]");
  });
});

describe("mailboxes", () => {
  it("reads a display name and lower-cases the address", () => {
    expect(parseMailbox('"Ada Lovelace" <Ada@Example.com>')).toEqual({
      address: "ada@example.com",
      name: "Ada Lovelace",
    });
    expect(parseMailbox("ada@example.com")).toEqual({ address: "ada@example.com" });
    expect(parseMailbox("not an address")).toBeNull();
  });
});
