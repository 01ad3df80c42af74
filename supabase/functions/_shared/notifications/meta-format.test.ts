import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatMetaReply, markdownToPlain, splitText, truncateClean } from "./meta-format.ts";

describe("Messenger/Instagram text", () => {
  it("drops the model's Markdown: emphasis, headings, code, links, bullets", () => {
    expect(
      markdownToPlain(
        "## Your order\n**Shipped** on _Monday_.\n- item `A1`\n* item B\nSee [tracking](https://t.example/1)",
      ),
    ).toBe(
      "Your order\nShipped on Monday.\n• item A1\n• item B\nSee tracking (https://t.example/1)",
    );
  });

  it("a reply fits one message: 2,000 on Messenger, 1,000 on Instagram, cut at a word", () => {
    const long = "lorem ipsum ".repeat(400);
    const m = formatMetaReply("messenger", long);
    const i = formatMetaReply("instagram", long);
    expect(m.length).toBeLessThanOrEqual(2000);
    expect(i.length).toBeLessThanOrEqual(1000);
    expect(m.endsWith("…")).toBe(true);
    expect(m.slice(0, -1)).toMatch(/(lorem|ipsum)$/);
  });

  it("splitting keeps every word, in order, each part within the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-zé]{1,12}$/), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 20, max: 200 }),
        (words, limit) => {
          const text = words.join(" ");
          const parts = splitText(text, limit, 1000);
          for (const p of parts) expect(p.length).toBeLessThanOrEqual(limit);
          expect(parts.join(" ")).toBe(text);
        },
      ),
    );
  });

  it("truncation never exceeds the limit", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 2, max: 100 }), (s, n) => {
        expect(truncateClean(s, n).length).toBeLessThanOrEqual(Math.max(n, 0));
      }),
    );
  });
});
