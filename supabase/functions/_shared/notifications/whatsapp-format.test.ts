import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatWhatsAppSummary,
  summaryPoints,
  TEMPLATE_PARAMETER_LIMIT,
  templateParameter,
  WHATSAPP_TEXT_LIMIT,
} from "./whatsapp-format.ts";

describe("formatWhatsAppSummary", () => {
  it("lays out a multi-sentence summary as a bold heading, bullets and a reply invitation", () => {
    const text = formatWhatsAppSummary({
      summary:
        "You asked about your invoice. We refunded 5,000 RWF. Dr. Uwase will call you on Monday.",
      name: "Alice",
      callId: "call-123",
      endedAt: "2026-11-22T14:05:00Z",
    });
    expect(text).toBe([
      "📞 *Call summary* · 22 Nov 2026, 14:05 UTC",
      "Hi Alice, thanks for your call. Here is what we covered:",
      "",
      "• You asked about your invoice.",
      "• We refunded 5,000 RWF.",
      "• Dr. Uwase will call you on Monday.",
      "",
      "💬 Reply here if you have any questions or need anything else.",
      "Ref: call-123",
    ].join("\n"));
  });

  it("keeps a one-sentence summary as a paragraph", () => {
    const text = formatWhatsAppSummary({ summary: "Your order ships tomorrow." });
    expect(text).toBe([
      "📞 *Call summary*",
      "Thanks for your call. Here is what we covered:",
      "",
      "Your order ships tomorrow.",
      "",
      "💬 Reply here if you have any questions or need anything else.",
    ].join("\n"));
  });

  it("turns the summary's own lines and Markdown into WhatsApp bullets and markup", () => {
    const text = formatWhatsAppSummary({
      summary:
        "## Next steps\n- Send the **signed** form\n* Pay by ~~Friday~~ Monday\n1. keep this number",
    });
    expect(text).toContain(
      "*Next steps*\n• Send the *signed* form\n• Pay by ~Friday~ Monday\n1. keep this number",
    );
  });

  it("puts a name in plain text so it cannot break the formatting", () => {
    const text = formatWhatsAppSummary({ summary: "Done.", name: "*Bob*\n_the builder_" });
    expect(text).toContain("Hi Bob the builder, thanks");
  });

  it("stays within 4096 characters, cutting the summary at a word", () => {
    const summary = "word ".repeat(2000);
    const text = formatWhatsAppSummary({ summary, callId: "c-1", name: "Alice" });
    expect(text.length).toBeLessThanOrEqual(WHATSAPP_TEXT_LIMIT);
    expect(text.length).toBeGreaterThan(WHATSAPP_TEXT_LIMIT - 10);
    expect(text).toMatch(/ word…\n\n💬 Reply here/);
    expect(text.endsWith("Ref: c-1")).toBe(true);
  });

  it("never exceeds 4096 characters whatever the summary", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 5000, size: "max" }), (summary) => {
        expect(formatWhatsAppSummary({ summary, callId: "c" }).length).toBeLessThanOrEqual(
          WHATSAPP_TEXT_LIMIT,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe("summaryPoints", () => {
  it("splits sentences but not after a title abbreviation", () => {
    expect(summaryPoints("Mr. Kamali called. He wants a refund!")).toEqual([
      "Mr. Kamali called.",
      "He wants a refund!",
    ]);
  });
});

describe("templateParameter", () => {
  it("has no newline, tab or run of more than four spaces, which Meta rejects", () => {
    const out = templateParameter("Refund approved\n\n• Call back Monday\tmorning     please");
    expect(out).toBe("Refund approved. Call back Monday morning please.");
    expect(out).not.toMatch(/[\n\t]| {5}/);
  });

  it("leaves a one-line text as it is", () => {
    expect(templateParameter("Alice")).toBe("Alice");
  });

  it("is at most 1024 characters, cut at a word", () => {
    const out = templateParameter("lorem ipsum ".repeat(200));
    expect(out.length).toBeLessThanOrEqual(TEMPLATE_PARAMETER_LIMIT);
    expect(out).toMatch(/ (lorem|ipsum)…$/);
  });

  it("is always safe, for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (text) => {
        const out = templateParameter(text);
        expect(out.length).toBeLessThanOrEqual(TEMPLATE_PARAMETER_LIMIT);
        expect(out).not.toMatch(/[\n\r\t]| {5}/);
      }),
      { numRuns: 100 },
    );
  });
});
