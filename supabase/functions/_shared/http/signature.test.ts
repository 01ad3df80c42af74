import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  hmacSha1Base64,
  timingSafeEqual,
  verifyBase64Sha256,
  verifyHexSha256,
} from "./signature.ts";

const raw = new TextEncoder().encode('{"object":"whatsapp_business_account","entry":[]}');
const secret = "app-secret";
const hex = createHmac("sha256", secret).update(raw).digest("hex");
const b64 = createHmac("sha256", secret).update(raw).digest("base64");

describe("verifyHexSha256 (Meta X-Hub-Signature-256)", () => {
  it("accepts the signature computed by an independent HMAC implementation", async () => {
    expect(await verifyHexSha256(secret, `sha256=${hex}`, raw)).toBe(true);
  });

  it("rejects a signature over different bytes", async () => {
    const other = new TextEncoder().encode('{"object":"whatsapp_business_account","entry":[1]}');
    expect(await verifyHexSha256(secret, `sha256=${hex}`, other)).toBe(false);
  });

  it("rejects a signature made with another secret", async () => {
    const wrong = createHmac("sha256", "other").update(raw).digest("hex");
    expect(await verifyHexSha256(secret, `sha256=${wrong}`, raw)).toBe(false);
  });

  it("fails closed without a secret or a header", async () => {
    expect(await verifyHexSha256(undefined, `sha256=${hex}`, raw)).toBe(false);
    expect(await verifyHexSha256("", `sha256=${hex}`, raw)).toBe(false);
    expect(await verifyHexSha256(secret, null, raw)).toBe(false);
  });

  it("requires the sha256= prefix unless told it is optional (MTN-style gateway)", async () => {
    expect(await verifyHexSha256(secret, hex, raw)).toBe(false);
    expect(await verifyHexSha256(secret, hex, raw, { prefixOptional: true })).toBe(true);
    expect(await verifyHexSha256(secret, hex.toUpperCase(), raw, { prefixOptional: true })).toBe(
      true,
    );
  });
});

describe("verifyBase64Sha256 (Genesys)", () => {
  it("accepts base64 with or without the sha256= prefix and rejects a tampered one", async () => {
    expect(await verifyBase64Sha256(secret, b64, raw)).toBe(true);
    expect(await verifyBase64Sha256(secret, `sha256=${b64}`, raw)).toBe(true);
    expect(await verifyBase64Sha256(secret, `sha256=A${b64.slice(1)}`, raw)).toBe(false);
    expect(await verifyBase64Sha256(undefined, b64, raw)).toBe(false);
  });
});

describe("hmacSha1Base64", () => {
  it("matches node:crypto", async () => {
    const expected = createHmac("sha1", "token").update("abc").digest("base64");
    expect(await hmacSha1Base64("token", new TextEncoder().encode("abc"))).toBe(expected);
  });
});

describe("timingSafeEqual", () => {
  it("compares content and length", () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 3, 1]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(), new Uint8Array())).toBe(true);
  });
});
