import { describe, expect, it } from "vitest";
import { memoryLogger } from "./logger.ts";
import { maskPhone } from "./mask.ts";

describe("logger", () => {
  it("writes one JSON object per event with the correlation id of its child", () => {
    const log = memoryLogger();
    log.child({ correlation_id: "abc" }).info("SMS_MESSAGE_SENT", { attempt: 1 });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: "info",
      event: "SMS_MESSAGE_SENT",
      correlation_id: "abc",
      attempt: 1,
    });
  });

  it("masks phone numbers, emails and message bodies", () => {
    const log = memoryLogger();
    log.info("X", {
      phone_number: "+250788123456",
      to: "+250788123456",
      email: "alice@example.com",
      body: "Your new price is 250k",
      note: "caller +250 788 123 456 asked",
      nested: { summary: "secret summary" },
    });
    const line = JSON.stringify(log.lines[0]);
    expect(line).not.toContain("788123456");
    expect(line).not.toContain("alice@");
    expect(line).not.toContain("250k");
    expect(line).not.toContain("secret summary");
    expect(log.lines[0].phone_number).toBe("+250****3456");
    expect(log.lines[0].note).toBe("caller +250****3456 asked");
  });

  it("masks like the documented example", () => {
    expect(maskPhone("+250788123456")).toBe("+250****3456");
  });
});

describe("masking leaves identifiers alone", () => {
  it("does not mask digits inside correlation ids, call ids or provider ids", () => {
    const log = memoryLogger();
    const ids = {
      correlation_id: "d897da10-4703-4a2b-9c2d-2845a90f6aa5",
      call_id: "demo-call-1795309660548",
      provider_message_id: "SM1234567890abcdef",
      note: "see call demo-call-1795309660548",
    };
    log.info("X", ids);
    expect(log.lines[0]).toMatchObject(ids);
  });
});
