import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { deriveKeys, LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";

// Published by Supabase for every local project (`supabase status`).
const PUBLISHED_ANON =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
const PUBLISHED_SERVICE_ROLE =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

describe("local JWT keys", () => {
  it("reproduces Supabase's published local keys with the default secret", async () => {
    const keys = await deriveKeys(LOCAL_JWT_SECRET);
    expect(keys.anon).toBe(PUBLISHED_ANON);
    expect(keys.serviceRole).toBe(PUBLISHED_SERVICE_ROLE);
  });

  it("signs with an overriding secret, and those keys do not verify with the default one", async () => {
    const secret = "another-secret-that-is-at-least-32-characters";
    const keys = await deriveKeys(secret);
    const { payload } = await jwtVerify(keys.serviceRole, new TextEncoder().encode(secret));
    expect(payload.role).toBe("service_role");
    await expect(jwtVerify(keys.anon, new TextEncoder().encode(LOCAL_JWT_SECRET))).rejects
      .toThrow();
  });
});
