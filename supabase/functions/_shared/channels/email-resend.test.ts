import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeResend,
  refusedUrl,
  resendError,
  startFakeResend,
} from "../../../../tests/support/fake-providers.ts";
import { createResendAdapter } from "./email-resend.ts";

let resend: FakeResend;
beforeAll(async () => {
  resend = await startFakeResend();
});
afterAll(() => resend.close());
beforeEach(() => resend.reset());

const adapter = (over: { apiKey?: string; from?: string; timeoutMs?: number } = {}) =>
  createResendAdapter({
    baseUrl: resend.baseUrl,
    apiKey: "apiKey" in over ? over.apiKey : resend.apiKey,
    from: "from" in over ? over.from : "Acme <support@acme.test>",
  }, { timeoutMs: over.timeoutMs });

const email = (to: string, extra = {}) => ({
  to,
  subject: "Your call",
  text: "Thanks for calling.",
  ...extra,
});

describe("Resend adapter: one email", () => {
  it("sends from EMAIL_FROM with text, HTML, reply-to, headers, tags, attachments and the key", async () => {
    const result = await adapter().send(email("ada@example.com", {
      html: "<p>Thanks for calling.</p>",
      replyTo: "help@acme.test",
      headers: { "In-Reply-To": "<m1@mail.test>" },
      tags: [{ name: "purpose", value: "post_call" }],
      attachments: [
        { filename: "a.txt", content: btoa("hello") },
        { filename: "b.pdf", path: "https://files.test/b.pdf" },
      ],
      idempotencyKey: "row-1",
    }));
    expect(result).toMatchObject({ ok: true, provider: "resend" });
    const [req] = resend.sendRequests();
    expect(req.path).toBe("/emails");
    expect(req.headers["idempotency-key"]).toBe("row-1");
    expect(req.json).toEqual({
      from: "Acme <support@acme.test>",
      to: ["ada@example.com"],
      subject: "Your call",
      text: "Thanks for calling.",
      html: "<p>Thanks for calling.</p>",
      reply_to: "help@acme.test",
      headers: { "In-Reply-To": "<m1@mail.test>" },
      tags: [{ name: "purpose", value: "post_call" }],
      attachments: [
        { filename: "a.txt", content: btoa("hello") },
        { filename: "b.pdf", path: "https://files.test/b.pdf" },
      ],
    });
  });

  it("a retry with the same idempotency key is one email at the provider", async () => {
    const a = await adapter().send(email("ada@example.com", { idempotencyKey: "k" }));
    const b = await adapter().send(email("ada@example.com", { idempotencyKey: "k" }));
    expect(a.ok && b.ok && a.providerMessageId === b.providerMessageId).toBe(true);
    expect(resend.sentEmails()).toHaveLength(1);
  });

  it("classifies Resend's errors: rate limit retryable and throttled, validation permanent", async () => {
    resend.replyNext(
      {
        ...resendError("rate_limit_exceeded", "Too many requests", 429),
        headers: { "retry-after": "2" },
      },
      resendError("validation_error", "Invalid `to` field."),
      resendError("application_error", "Something went wrong", 500),
    );
    const limited = await adapter().send(email("ada@example.com"));
    const invalid = await adapter().send(email("ada@example.com"));
    const crashed = await adapter().send(email("ada@example.com"));
    expect(limited).toMatchObject({
      ok: false,
      error: {
        class: "retryable",
        code: "rate_limit_exceeded",
        throttled: true,
        retryAfterMs: 2000,
      },
    });
    expect(invalid).toMatchObject({
      ok: false,
      error: { class: "permanent", code: "validation_error" },
    });
    expect(crashed).toMatchObject({ ok: false, error: { class: "retryable" } });
  });

  it("refuses a non-address and missing config before any call; unreachable is retryable", async () => {
    expect(await adapter().send(email("not an address"))).toMatchObject({
      ok: false,
      error: { code: "INVALID_RECIPIENT", class: "permanent" },
    });
    expect(await adapter({ from: undefined }).send(email("ada@example.com"))).toMatchObject({
      ok: false,
      error: { code: "CHANNEL.NOT_CONFIGURED" },
    });
    expect(resend.requests).toHaveLength(0);
    const down = createResendAdapter({
      baseUrl: await refusedUrl(),
      apiKey: "k",
      from: "a@b.test",
    });
    expect(await down.send(email("ada@example.com"))).toMatchObject({
      ok: false,
      error: { code: "NETWORK", class: "retryable" },
    });
  });
});

describe("Resend adapter: batch", () => {
  it("sends up to 100 in one call, one result per email in order, a bad address failing alone", async () => {
    const messages = [
      email("a@example.com"),
      email("nope"),
      email("c@example.com"),
    ];
    const results = await adapter().sendBatch(messages, "batch-key");
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const [req] = resend.sendRequests();
    expect(req.path).toBe("/emails/batch");
    expect(req.headers["x-batch-validation"]).toBe("permissive");
    expect(req.headers["idempotency-key"]).toBe("batch-key");
    expect((req.json as unknown[]).length).toBe(2);
    const ids = results.flatMap((r) => (r.ok ? [r.providerMessageId] : []));
    expect(ids).toEqual(resend.sentEmails().map((e) => e.id));
  });

  it("maps permissive errors to their index", async () => {
    resend.replyNext({
      status: 200,
      body: { data: [{ id: "e1" }, { id: "e3" }], errors: [{ index: 1, message: "Invalid `to`" }] },
    });
    const results = await adapter().sendBatch([
      email("a@example.com"),
      email("b@example.com"),
      email("c@example.com"),
    ]);
    expect(results).toMatchObject([
      { ok: true, providerMessageId: "e1" },
      { ok: false, error: { class: "permanent", message: "Invalid `to`" } },
      { ok: true, providerMessageId: "e3" },
    ]);
  });

  it("a failed call fails every email of it with the call's class", async () => {
    resend.replyNext(resendError("rate_limit_exceeded", "Too many requests", 429));
    const results = await adapter().sendBatch([email("a@example.com"), email("b@example.com")]);
    expect(results.every((r) => !r.ok && r.error.class === "retryable")).toBe(true);
  });
});

describe("Resend adapter: received email", () => {
  it("fetches the content and the thread headers", async () => {
    resend.inbox.set("in-1", {
      id: "in-1",
      from: "Ada <ada@example.com>",
      to: ["support@acme.test"],
      subject: "Re: Your call",
      text: "Yes please",
      html: "<p>Yes please</p>",
      message_id: "<reply-1@mail.example.com>",
      headers: { References: "<a@acme.test> <b@acme.test>" },
      attachments: [{ id: "x", filename: "photo.jpg", content_type: "image/jpeg" }],
    });
    const got = await adapter().fetchReceived("in-1");
    expect(got).toEqual({
      ok: true,
      email: {
        id: "in-1",
        from: "Ada <ada@example.com>",
        to: ["support@acme.test"],
        subject: "Re: Your call",
        text: "Yes please",
        html: "<p>Yes please</p>",
        messageId: "<reply-1@mail.example.com>",
        references: ["<a@acme.test>", "<b@acme.test>"],
        attachments: [{ filename: "photo.jpg", contentType: "image/jpeg" }],
      },
    });
    expect(await adapter().fetchReceived("missing")).toMatchObject({
      ok: false,
      error: { code: "not_found", class: "permanent" },
    });
  });
});
