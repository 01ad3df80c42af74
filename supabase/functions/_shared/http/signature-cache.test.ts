import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacSha1Base64, verifyHexSha256 } from "./signature.ts";

// Many secrets checked in one isolate, in any order and concurrently: one secret's signature never
// passes for another's, nor a SHA-256 for a SHA-1. (Once a per-isolate cache of imported
// WebCrypto keys; node:crypto's createHmac now takes the secret on each call.)
const raw = new TextEncoder().encode('{"entry":[]}');
const sign = (secret: string) => `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;

describe("HMAC across secrets and hashes", () => {
  it("keeps each secret's key apart, in either order and concurrently", async () => {
    expect(await verifyHexSha256("secret-a", sign("secret-a"), raw)).toBe(true);
    expect(await verifyHexSha256("secret-b", sign("secret-a"), raw)).toBe(false);
    expect(await verifyHexSha256("secret-b", sign("secret-b"), raw)).toBe(true);
    expect(await verifyHexSha256("secret-a", sign("secret-b"), raw)).toBe(false);
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => verifyHexSha256(`s${i % 4}`, sign(`s${(i + 1) % 4}`), raw),
      ),
    );
    expect(results.every((r) => r === false)).toBe(true);
  });

  it("keeps the hash apart for the same secret", async () => {
    expect(await verifyHexSha256("secret-a", sign("secret-a"), raw)).toBe(true);
    expect(await hmacSha1Base64("secret-a", raw)).toBe(
      createHmac("sha1", "secret-a").update(raw).digest("base64"),
    );
  });
});
