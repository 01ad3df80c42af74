import fc from "fast-check";
import { SegmentedMessage } from "sms-segments-calculator";
import { describe, expect, it } from "vitest";
import { countSegments } from "./sms-segments.ts";

const a = (n: number) => "a".repeat(n);
const zh = (n: number) => "ж".repeat(n);

describe("countSegments: GSM-7", () => {
  it.each([
    [0, 1],
    [1, 1],
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])("%i basic characters take %i segment(s)", (n, segments) => {
    expect(countSegments(a(n))).toEqual({ encoding: "GSM-7", segments, units: n });
  });

  it("counts extension characters as two septets", () => {
    expect(countSegments("^{}\\[~]|€\f")).toEqual({ encoding: "GSM-7", segments: 1, units: 20 });
    expect(countSegments("€".repeat(80))).toEqual({ encoding: "GSM-7", segments: 1, units: 160 });
    expect(countSegments(a(159) + "€")).toEqual({ encoding: "GSM-7", segments: 2, units: 161 });
  });

  it("never splits an extension character across two segments", () => {
    // 306 septets would fill two parts exactly, but the € would straddle the first boundary.
    expect(countSegments(a(152) + "€" + a(152))).toEqual({
      encoding: "GSM-7",
      segments: 3,
      units: 306,
    });
    expect(countSegments(a(151) + "€" + a(153))).toEqual({
      encoding: "GSM-7",
      segments: 2,
      units: 306,
    });
  });

  it("keeps the GSM accented letters in GSM-7, and the others force UCS-2", () => {
    expect(countSegments("àéèìòùÄÖÑÜäöñüÇØøÅåÆæßÉ¿¡§£¥¤ΔΦΓΛΩΠΨΣΘΞ").encoding).toBe("GSM-7");
    expect(countSegments("ç").encoding).toBe("UCS-2");
    expect(countSegments("ê").encoding).toBe("UCS-2");
    expect(countSegments("it’s").encoding).toBe("UCS-2");
    expect(countSegments("a\u00a0b").encoding).toBe("UCS-2");
  });

  it("counts CR LF as two septets", () => {
    expect(countSegments("a\r\nb")).toEqual({ encoding: "GSM-7", segments: 1, units: 4 });
  });
});

describe("countSegments: UCS-2", () => {
  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])("%i BMP characters take %i segment(s)", (n, segments) => {
    expect(countSegments(zh(n))).toEqual({ encoding: "UCS-2", segments, units: n });
  });

  it("counts an emoji outside the BMP as two units", () => {
    expect(countSegments("😀".repeat(35))).toEqual({ encoding: "UCS-2", segments: 1, units: 70 });
    expect(countSegments("😀".repeat(36))).toEqual({ encoding: "UCS-2", segments: 2, units: 72 });
  });

  it("never splits a surrogate pair across two segments", () => {
    // 134 units fill two parts of 67 exactly, but only if the emoji at units 67–68 could straddle.
    expect(countSegments(zh(66) + "😀" + zh(66))).toEqual({
      encoding: "UCS-2",
      segments: 3,
      units: 134,
    });
    expect(countSegments(zh(65) + "😀" + zh(67))).toEqual({
      encoding: "UCS-2",
      segments: 2,
      units: 134,
    });
  });

  it("keeps a combining sequence (e + U+0301) in one segment", () => {
    expect(countSegments("e\u0301".repeat(35))).toEqual({
      encoding: "UCS-2",
      segments: 1,
      units: 70,
    });
    expect(countSegments("e\u0301".repeat(36))).toEqual({
      encoding: "UCS-2",
      segments: 2,
      units: 72,
    });
    expect(countSegments(zh(66) + "e\u0301" + zh(66))).toEqual({
      encoding: "UCS-2",
      segments: 3,
      units: 134,
    });
    expect(countSegments(zh(65) + "e\u0301" + zh(67))).toEqual({
      encoding: "UCS-2",
      segments: 2,
      units: 134,
    });
  });

  it("may split CR LF across two segments, as Twilio does", () => {
    expect(countSegments(zh(66) + "\r\n" + zh(66))).toEqual({
      encoding: "UCS-2",
      segments: 2,
      units: 134,
    });
  });

  it("keeps a ZWJ emoji sequence in one segment", () => {
    const family = "👨‍👩‍👧"; // 8 code units, one grapheme
    expect(countSegments(zh(59) + family + zh(67)).segments).toBe(2);
    expect(countSegments(zh(60) + family + zh(66)).segments).toBe(3);
  });

  it("splits a grapheme longer than a segment at code points, as a handset must", () => {
    const zalgo = "e" + "\u0301".repeat(199); // one grapheme, 200 units
    expect(countSegments(zalgo)).toEqual({ encoding: "UCS-2", segments: 3, units: 200 });
    // Twilio's calculator puts the whole grapheme into one part, overfilling it.
    expect(new SegmentedMessage(zalgo).segmentsCount).toBe(2);
  });
});

describe("countSegments agrees with Twilio's sms-segments-calculator", () => {
  it("on the encoding and size of every BMP character", () => {
    const differences: string[] = [];
    for (let code = 0; code < 0x10000; code++) {
      if (code >= 0xd800 && code < 0xe000) continue;
      const c = String.fromCharCode(code);
      const theirs = new SegmentedMessage(c);
      const ours = countSegments(c);
      const units = theirs.encodingName === "GSM-7" ? theirs.numberOfCharacters : c.length;
      if (ours.encoding !== theirs.encodingName || ours.units !== units) {
        differences.push(code.toString(16));
      }
    }
    expect(differences).toEqual([]);
  });

  it("on segments for random mixed text", () => {
    const pieces = fc.constantFrom(
      "a",
      "Z",
      " ",
      "7",
      ".",
      "\n",
      "\r\n",
      "é",
      "Ñ",
      "€",
      "^",
      "{",
      "|",
      "~",
      "ç",
      "ж",
      "中",
      "’",
      "…",
      "😀",
      "👍🏽",
      "👨‍👩‍👧",
      "e\u0301",
      "\u0301",
      "🇷🇼",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 500 }), (parts) => {
        const text = parts.join("");
        const theirs = new SegmentedMessage(text);
        const ours = countSegments(text);
        expect([ours.encoding, ours.segments]).toEqual([theirs.encodingName, theirs.segmentsCount]);
      }),
      { numRuns: 300 },
    );
  });
});
