import { describe, expect, it } from "vitest";
import { listUnsubscribeHeaders, readUnsubscribeToken, unsubscribeToken } from "./unsubscribe.ts";

const secret = "unsubscribe-secret";

describe("one-click unsubscribe links", () => {
  it("carry a token that reads back as the address, and only under the same secret", async () => {
    const token = await unsubscribeToken(secret, "Ada@Example.com");
    expect(await readUnsubscribeToken(secret, token)).toBe("ada@example.com");
    expect(await readUnsubscribeToken("another", token)).toBeNull();
    expect(await readUnsubscribeToken(undefined, token)).toBeNull();
  });

  it("refuse a token pointed at another address or tampered with", async () => {
    const token = await unsubscribeToken(secret, "ada@example.com");
    const [, mac] = token.split(".");
    const other = `${btoa("grace@example.com").replace(/=+$/, "")}.${mac}`;
    expect(await readUnsubscribeToken(secret, other)).toBeNull();
    expect(await readUnsubscribeToken(secret, `${token}0`)).toBeNull();
    expect(await readUnsubscribeToken(secret, "garbage")).toBeNull();
  });

  it("are the RFC 8058 headers", async () => {
    const headers = await listUnsubscribeHeaders(
      { publicFunctionsUrl: "https://ref.supabase.co/functions/v1/", secret },
      "ada@example.com",
    );
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const url = new URL(headers["List-Unsubscribe"].slice(1, -1));
    expect(url.origin + url.pathname).toBe(
      "https://ref.supabase.co/functions/v1/email-unsubscribe",
    );
    expect(await readUnsubscribeToken(secret, url.searchParams.get("token"))).toBe(
      "ada@example.com",
    );
  });
});
