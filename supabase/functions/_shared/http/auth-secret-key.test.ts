import { afterEach, describe, expect, it, vi } from "vitest";
import { type AuthConfig, authenticate } from "./auth.ts";

// Every internal call (post-call, dispatch, the messages API, the agent-worker's kicks) carries a
// secret key. Checking it must not cost WebCrypto work per request (@supabase/server compares
// keys by importing a fresh random HMAC key and signing both strings); it is still any named key,
// in constant time, and anything else still goes through the other modes.
const config = (modes: AuthConfig["policy"]["modes"]): AuthConfig => ({
  policy: { modes, roles: ["operator"] },
  keys: {
    secretKeys: {
      default: "sb_secret_default_0123456789abcdef",
      ci: "sb_secret_ci_0123456789abcdefgh",
    },
    publishableKeys: { web: "sb_publishable_web_0123456789abcd" },
    jwks: null,
    issuer: null,
    legacy: null,
  },
});
const call = (headers: Record<string, string>) => new Request("http://localhost/x", { headers });

afterEach(() => vi.restoreAllMocks());

describe("secret keys", () => {
  it("accepts any named secret key with no WebCrypto work per request", async () => {
    const cfg = config(["secret", "user"]);
    const imports = vi.spyOn(crypto.subtle, "importKey");
    const signs = vi.spyOn(crypto.subtle, "sign");
    for (let i = 0; i < 5; i++) {
      expect(await authenticate(call({ apikey: "sb_secret_ci_0123456789abcdefgh" }), cfg))
        .toEqual({ mode: "secret", keyName: "ci" });
      expect(await authenticate(call({ apikey: "sb_secret_default_0123456789abcdef" }), cfg))
        .toEqual({ mode: "secret", keyName: "default" });
    }
    expect(imports).not.toHaveBeenCalled();
    expect(signs).not.toHaveBeenCalled();
  });

  it("still refuses a wrong key, a key one character off, and a publishable key where only secret is allowed", async () => {
    const cfg = config(["secret"]);
    for (
      const apikey of [
        "sb_secret_default_0123456789abcdeX",
        "sb_secret_default_0123456789abcde",
        "sb_publishable_web_0123456789abcd",
        "",
      ]
    ) {
      await expect(authenticate(call({ apikey }), cfg)).rejects.toMatchObject({ status: 401 });
    }
    await expect(authenticate(call({}), cfg)).rejects.toMatchObject({ status: 401 });
  });

  it("leaves the other modes to @supabase/server when the key is not a secret one", async () => {
    const cfg = config(["secret", "publishable"]);
    expect(await authenticate(call({ apikey: "sb_publishable_web_0123456789abcd" }), cfg))
      .toEqual({ mode: "publishable", keyName: "web" });
  });
});
