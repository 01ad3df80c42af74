import { SignJWT } from "jose";

/**
 * Supabase's well-known local JWT secret (the one `supabase start` uses). It is public: it only
 * ever signs keys for a stack on 127.0.0.1, never a hosted project.
 */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

/** The expiry Supabase bakes into its published local keys (2032-11-11). */
const LOCAL_KEY_EXPIRY = 1983812996;

export type KeyRole = "anon" | "service_role";

export interface StackKeys {
  anon: string;
  serviceRole: string;
}

/**
 * Signs `{"iss":"supabase-demo","role":…,"exp":…}` with HS256, exactly as Supabase derived its
 * local keys, so with the default secret the output is byte for byte the published keys.
 */
export function signRoleKey(secret: string, role: KeyRole): Promise<string> {
  return new SignJWT({ iss: "supabase-demo", role, exp: LOCAL_KEY_EXPIRY })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

export async function deriveKeys(secret: string): Promise<StackKeys> {
  const [anon, serviceRole] = await Promise.all([
    signRoleKey(secret, "anon"),
    signRoleKey(secret, "service_role"),
  ]);
  return { anon, serviceRole };
}
