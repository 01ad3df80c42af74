import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSms, toSmsText } from "./sms-format.ts";
import { countSegments } from "./sms-segments.ts";

const graphemes = (s: string) =>
  [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s)].map((g) => g.segment);
const words = (n: number, word = "word") => Array.from({ length: n }, () => word).join(" ");

describe("toSmsText: plain text", () => {
  it("strips WhatsApp and Markdown markup but keeps the words", () => {
    expect(toSmsText("*Bold* and _italic_ and ~gone~ and ```code``` and `x`")).toBe(
      "Bold and italic and gone and code and x",
    );
    expect(toSmsText("**Next steps**: call back")).toBe("Next steps: call back");
    expect(toSmsText("*_both_*")).toBe("both");
  });

  it("leaves lone or in-word markers alone", () => {
    expect(toSmsText("5 * 3 * 2 = 30, file_name_here, a~b")).toBe(
      "5 * 3 * 2 = 30, file_name_here, a~b",
    );
  });

  it("turns bullets into dashes and quotes into plain lines", () => {
    expect(toSmsText("Summary:\n• first\n  ◦ second\n* third\n> quoted")).toBe(
      "Summary:\n- first\n- second\n- third\nquoted",
    );
  });

  it("collapses whitespace and drops empty lines", () => {
    expect(toSmsText("  a \t b\u00a0\u00a0c  \r\n\r\n\n d\u200b ")).toBe("a b c\nd");
  });

  it("replaces typographic characters with GSM ones when that is the only reason for UCS-2", () => {
    const text = "“It’s done” – see you… at 3 • ok";
    expect(countSegments(text).encoding).toBe("UCS-2");
    expect(toSmsText(text)).toBe('"It\'s done" - see you... at 3 - ok');
    expect(countSegments(toSmsText(text)).encoding).toBe("GSM-7");
  });

  it("keeps typographic characters when something else needs UCS-2 anyway", () => {
    expect(toSmsText("It’s done 👍")).toBe("It’s done 👍");
  });

  it("composes combining marks (e + U+0301 becomes é, which GSM-7 has)", () => {
    expect(toSmsText("Cafe\u0301")).toBe("Café");
    expect(countSegments(toSmsText("Cafe\u0301")).encoding).toBe("GSM-7");
  });
});

describe("formatSms: segment limits", () => {
  it("leaves text that fits alone", () => {
    expect(formatSms("a".repeat(459))).toEqual({
      text: "a".repeat(459),
      segments: 3,
      encoding: "GSM-7",
      truncated: false,
    });
  });

  it("160 GSM-7 characters are one segment, 161 are two", () => {
    expect(formatSms("a".repeat(160), { maxSegments: 1 })).toMatchObject({
      segments: 1,
      truncated: false,
    });
    expect(formatSms("a".repeat(161), { maxSegments: 2 })).toMatchObject({
      segments: 2,
      truncated: false,
    });
  });

  it("cuts 460 GSM-7 characters of words at a word boundary with '...'", () => {
    const text = "abcd ".repeat(91) + "abcde";
    expect(text.length).toBe(460);
    const out = formatSms(text);
    expect(out).toMatchObject({ encoding: "GSM-7", segments: 3, truncated: true });
    // 456 septets are left for the words; the last whole word ends at 454.
    expect(out.text).toBe(text.slice(0, 454) + "...");
  });

  it("cuts UCS-2 text with '…' so it fits 67 units per part", () => {
    const text = words(60, "добро"); // 359 units, UCS-2
    const out = formatSms(text, { maxSegments: 2 });
    expect(out).toMatchObject({ encoding: "UCS-2", segments: 2, truncated: true });
    expect(out.text.endsWith("добро…")).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(134);
  });

  it("counts extension characters double when deciding where to cut", () => {
    const text = words(40, "{x}"); // 40 × 5 septets + 39 spaces = 239 septets, 2 segments
    const out = formatSms(text, { maxSegments: 1 });
    expect(out).toMatchObject({ encoding: "GSM-7", segments: 1, truncated: true });
    expect(countSegments(out.text).units).toBeLessThanOrEqual(160);
    expect(out.text).toMatch(/\{x\}\.\.\.$/);
  });

  it("never cuts inside an emoji or a combining sequence", () => {
    const emoji = formatSms("👍".repeat(100), { maxSegments: 1 });
    expect(emoji.text).toBe("👍".repeat(34) + "…");
    const combining = formatSms("q\u0301".repeat(100), { maxSegments: 1 });
    expect(combining.text).toBe("q\u0301".repeat(34) + "…");
  });

  it("keeps the suffix whole and cuts the body before it", () => {
    const out = formatSms(words(200), { suffix: "\nReply STOP to opt out." });
    expect(out.segments).toBe(3);
    expect(out.text.endsWith("word...\nReply STOP to opt out.")).toBe(true);
  });

  it("does not leave a dangling comma or dash before the ellipsis", () => {
    expect(formatSms("Call us back, " + "x".repeat(200), { maxSegments: 1 }).text)
      .toBe("Call us back...");
    expect(formatSms("Call us back - " + "x".repeat(200), { maxSegments: 1 }).text)
      .toBe("Call us back...");
  });

  it("throws on a suffix that cannot fit, a programming error", () => {
    expect(() => formatSms("hi", { maxSegments: 1, suffix: "x".repeat(200) })).toThrow(RangeError);
  });
});

describe("formatSms: properties", () => {
  // size "max": most inputs are long enough to need cutting at 1–4 segments.
  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 700, size: "max" }),
    fc.string({ unit: "binary", maxLength: 700, size: "max" }),
    fc.array(
      fc.constantFrom(
        "word",
        " ",
        "\n",
        "€",
        "{",
        "é",
        "e\u0301",
        "😀",
        "👨‍👩‍👧",
        "’",
        "*",
        "_",
        "•",
        "ж",
        "中文",
      ),
      { maxLength: 400, size: "max" },
    ).map((parts) => parts.join("")),
  );

  it("never exceeds maxSegments and keeps a prefix of the normalised input", () => {
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("", " Reply here.", "\n- Acme"),
        (input, maxSegments, suffix) => {
          const out = formatSms(input, { maxSegments, suffix });
          const counted = countSegments(out.text);
          expect(counted.segments).toBeLessThanOrEqual(maxSegments);
          expect(out.segments).toBe(counted.segments);
          expect(out.encoding).toBe(counted.encoding);
          expect(out.text.endsWith(suffix)).toBe(true);

          const normalised = toSmsText(input);
          const body = out.text.slice(0, out.text.length - suffix.length);
          if (!out.truncated) {
            expect(body).toBe(normalised);
            return;
          }
          const kept = body.replace(/(\.\.\.|…)$/, "");
          expect(body).not.toBe(kept);
          expect(normalised.startsWith(kept)).toBe(true);
          // The cut falls between graphemes of the normalised text.
          const whole = graphemes(normalised);
          const prefix = graphemes(kept);
          expect(whole.slice(0, prefix.length)).toEqual(prefix);
        },
      ),
      { numRuns: 400 },
    );
  });
});
