import { describe, expect, it } from "vitest";
import { buildPostCallMessages, GENERIC_THANK_YOU } from "./post-call-message.ts";
import { countSegments } from "./sms-segments.ts";

describe("buildPostCallMessages", () => {
  it("formats the same summary for each channel", () => {
    const messages = buildPostCallMessages({
      summary: "You asked about your invoice. We refunded it – expect it in 3 days.",
      name: "Alice",
      callId: "call-9",
    });
    expect(messages.whatsappText).toContain("📞 *Call summary*");
    expect(messages.whatsappText).toContain("• We refunded it – expect it in 3 days.");
    expect(messages.whatsappText).toContain("Ref: call-9");
    expect(messages.whatsappTemplateParams).toEqual([
      "You asked about your invoice. We refunded it – expect it in 3 days.",
    ]);
    expect(messages.smsText).toBe(
      "Hi Alice, here is the summary of your call:\n" +
        "You asked about your invoice. We refunded it - expect it in 3 days.\n" +
        "Reply to this message if you need anything.",
    );
    expect(countSegments(messages.smsText)).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it("fits a long summary into 3 SMS segments and keeps the reply line", () => {
    const summary = "The customer reported a billing problem and we agreed on next steps. ".repeat(
      20,
    );
    const { smsText, whatsappTemplateParams } = buildPostCallMessages({ summary, callId: "c" });
    expect(countSegments(smsText).segments).toBe(3);
    expect(smsText).toMatch(/\.\.\.\nReply to this message if you need anything\.$/);
    expect(whatsappTemplateParams[0].length).toBeLessThanOrEqual(1024);
  });

  it.each([null, undefined, "   "])(
    "sends a generic thank-you when the summary is %j",
    (summary) => {
      expect(buildPostCallMessages({ summary, callId: "c" })).toEqual({
        whatsappText: GENERIC_THANK_YOU,
        whatsappTemplateParams: [GENERIC_THANK_YOU],
        smsText: GENERIC_THANK_YOU,
      });
      expect(countSegments(GENERIC_THANK_YOU)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    },
  );
});
