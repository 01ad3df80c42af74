import { describe, expect, it } from "vitest";
import { pgSafe, pgSafeText } from "./pg-safe.ts";

describe("pgSafe", () => {
  it("drops NUL and replaces lone surrogates, keeping pairs (emoji) whole", () => {
    expect(pgSafeText("a\u0000b")).toBe("ab");
    expect(pgSafeText("\ud800x\udc00")).toBe("\ufffdx\ufffd");
    expect(pgSafeText("😀 \ud83d")).toBe("😀 \ufffd");
  });

  it("cleans objects deeply, keys included, and leaves numbers, booleans and dates alone", () => {
    const at = new Date(0);
    expect(pgSafe({ "k\u0000": ["v\ud800", 1, true, null], at, gone: undefined })).toEqual({
      k: ["v\ufffd", 1, true, null],
      at,
    });
  });
});
