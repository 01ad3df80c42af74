import { describe, expect, it } from "vitest";
import { e164Digits, e164Shaped, smsSenderToE164, toE164 } from "./phone.ts";

describe("phone: one module, four levels of trust", () => {
  it("toE164 checks the numbering plan and reads national numbers", () => {
    expect(toE164("0788 123 456", "RW")).toBe("+250788123456");
    expect(toE164("+250 000", "RW")).toBeNull();
  });

  it("e164Shaped takes Meta's wa_id with or without '+', shape only", () => {
    expect(e164Shaped("250788123456")).toBe("+250788123456");
    expect(e164Shaped(" +14158675309 ")).toBe("+14158675309");
    for (const s of ["0788123456", "12345", "1234567890123456", "abc"]) {
      expect(e164Shaped(s), s).toBeNull();
    }
  });

  it("e164Digits gives providers the digits, undefined when not a number", () => {
    expect(e164Digits("+250788123456")).toBe("250788123456");
    expect(e164Digits("not a number")).toBeUndefined();
  });

  it("smsSenderToE164 reads the ways gateways write a sender, and refuses network names", () => {
    expect(smsSenderToE164("00250788123456", "RW")).toBe("+250788123456");
    expect(smsSenderToE164("MTN", "RW")).toBeNull();
  });
});
