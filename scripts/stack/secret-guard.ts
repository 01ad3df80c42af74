import { LOCAL_JWT_SECRET } from "./jwt.ts";

/** The providers that send real messages to real people when their credentials are set. */
const MESSAGING = ["whatsapp", "sms", "meta"];

export class PublicSecretError extends Error {
  override name = "PublicSecretError";
}

/**
 * With real provider credentials, the public local JWT secret would let anyone who reaches the
 * stack sign a service_role key and send real SMS/WhatsApp, so the stack refuses to start
 * until SUPABASE_JWT_SECRET is a secret of its own. The sandbox alone needs no such care.
 */
export function assertOwnSecretForRealProviders(
  jwtSecret: string,
  providers: Record<string, string>,
): void {
  const real = MESSAGING.filter((p) => providers[p] === "real");
  if (jwtSecret !== LOCAL_JWT_SECRET || real.length === 0) return;
  throw new PublicSecretError(
    `Real ${real.join(" and ")} credentials are configured, so set SUPABASE_JWT_SECRET to a ` +
      "secret of your own (32+ characters, e.g. `openssl rand -base64 32`): the default local " +
      "one is public and would let anyone sign a service_role key.",
  );
}
