import { describe, expect, it } from "vitest";
import { smsSegments } from "../../scripts/sandbox/sms-segments.ts";

describe("smsSegments", () => {
  it("fits 160 GSM-7 characters in one segment and splits 161 into two of 153", () => {
    expect(smsSegments("a".repeat(160))).toBe(1);
    expect(smsSegments("a".repeat(161))).toBe(2);
    expect(smsSegments("a".repeat(306))).toBe(2);
    expect(smsSegments("a".repeat(307))).toBe(3);
  });

  it("counts extension characters twice and never splits one", () => {
    expect(smsSegments("€".repeat(80))).toBe(1);
    expect(smsSegments("€".repeat(81))).toBe(2);
    // 306 septets would fit in two 153-septet parts, but € cannot straddle the first boundary
    expect(smsSegments(`${"a".repeat(152)}€${"a".repeat(152)}`)).toBe(3);
  });

  it("switches to UCS-2 for anything outside GSM-7: 70, then 67 per part, pairs kept whole", () => {
    expect(smsSegments("é".repeat(160))).toBe(1); // é is in GSM-7
    expect(smsSegments("ł".repeat(70))).toBe(1);
    expect(smsSegments("ł".repeat(71))).toBe(2);
    expect(smsSegments("😀".repeat(35))).toBe(1);
    expect(smsSegments(`${"ł".repeat(68)}😀`)).toBe(1);
    // 134 units would fit in two 67-unit parts, but the emoji cannot straddle the first boundary
    expect(smsSegments(`${"ł".repeat(66)}😀${"ł".repeat(66)}`)).toBe(3);
  });
});
