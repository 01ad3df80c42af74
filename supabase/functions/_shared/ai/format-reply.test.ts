import { describe, expect, it } from "vitest";
import { formatReply } from "./format-reply.ts";
import { countSegments } from "../notifications/sms-segments.ts";

describe("formatReply", () => {
  it("WhatsApp: Markdown emphasis becomes WhatsApp's, within 4096 characters", () => {
    expect(formatReply("whatsapp", "  Your price is **250k** and ~~old~~ is gone. ")).toBe(
      "Your price is *250k* and ~old~ is gone.",
    );
    const long = formatReply("whatsapp", "word ".repeat(2_000));
    expect(long.length).toBeLessThanOrEqual(4096);
    expect(long.endsWith("…")).toBe(true);
  });

  it("SMS: plain text, GSM-7 where possible, at most 3 segments", () => {
    expect(formatReply("sms", "**Done** — your price is “250k”.")).toBe(
      'Done - your price is "250k".',
    );
    const long = formatReply("sms", "A long answer. ".repeat(100));
    expect(countSegments(long).segments).toBe(3);
  });

  it("drops a channel tag the model copied from the history", () => {
    expect(formatReply("sms", "[SMS] Hello")).toBe("Hello");
    expect(formatReply("whatsapp", "[WhatsApp]   Hello")).toBe("Hello");
    expect(formatReply("sms", "[note] Hello")).toBe("[note] Hello");
  });
});
