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

  it("hands back the value itself when nothing in it needs cleaning, and copies it when anything does", () => {
    const clean = {
      entry: [{ id: "1", changes: [{ value: { statuses: [{ id: "wamid.x", status: "read" }] } }] }],
      text: "Muraho 😀",
      at: new Date(0),
      n: 1,
    };
    expect(pgSafe(clean)).toBe(clean);
    expect(pgSafeText("Muraho 😀")).toBe("Muraho 😀");

    // One bad string deep inside, a bad key, or an undefined member: a cleaned copy, the
    // original untouched.
    const deep = { entry: [{ changes: [{ value: { text: "a\u0000b" } }] }] };
    const cleaned = pgSafe(deep);
    expect(cleaned).not.toBe(deep);
    expect(cleaned.entry[0].changes[0].value.text).toBe("ab");
    expect(deep.entry[0].changes[0].value.text).toBe("a\u0000b");
    expect(pgSafe({ ["k\ud800"]: 1 })).toEqual({ "k\ufffd": 1 });
    const withUndefined = { a: 1, b: undefined };
    expect(pgSafe(withUndefined)).not.toBe(withUndefined);
    expect(Object.keys(pgSafe(withUndefined))).toEqual(["a"]);
  });
});
