import { afterEach, describe, expect, it, vi } from "vitest";
import { SignJWT } from "jose";
import { type AuthConfig, authenticate } from "./auth.ts";

// The legacy HS256 secret is imported as a CryptoKey once per isolate, not on every request
// (jose imports a raw Uint8Array secret on each jwtVerify); the cache must never let one
// secret's key verify another's token.
const enc = new TextEncoder();
const config = (secret: string): AuthConfig => ({
  policy: { modes: ["legacy-service-role"] },
  keys: {
    secretKeys: {},
    publishableKeys: {},
    jwks: null,
    issuer: null,
    legacy: { jwtSecret: enc.encode(secret) },
  },
});
const token = (secret: string, role = "service_role") =>
  new SignJWT({ role }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h")
    .sign(enc.encode(secret));
const call = (jwt: string) =>
  new Request("http://localhost/x", { headers: { authorization: `Bearer ${jwt}` } });

afterEach(() => vi.restoreAllMocks());

describe("legacy HS256 service-role JWT", () => {
  it("imports the secret once per isolate, however many requests it checks", async () => {
    const cfg = config("legacy-secret-for-import-count-0123456789");
    const jwt = await token("legacy-secret-for-import-count-0123456789");
    const imports = vi.spyOn(crypto.subtle, "importKey");
    for (let i = 0; i < 5; i++) {
      expect(await authenticate(call(jwt), cfg)).toEqual({ mode: "legacy-service-role" });
    }
    expect(imports.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it("keeps each secret's key apart and still refuses another role", async () => {
    const a = config("legacy-secret-a-0123456789-0123456789");
    const b = config("legacy-secret-b-0123456789-0123456789");
    const jwtA = await token("legacy-secret-a-0123456789-0123456789");
    expect(await authenticate(call(jwtA), a)).toEqual({ mode: "legacy-service-role" });
    await expect(authenticate(call(jwtA), b)).rejects.toMatchObject({ status: 401 });
    const anon = await token("legacy-secret-a-0123456789-0123456789", "anon");
    await expect(authenticate(call(anon), a)).rejects.toMatchObject({ status: 401 });
  });
});
