import { jwtVerify } from "jose";
import { unauthorized } from "./errors.ts";
import { timingSafeEqualString } from "./signature.ts";

export interface ServiceAuthConfig {
  serviceRoleKey?: string;
  jwtSecret?: string;
}

function bearerOf(req: Request): string | null {
  const h = req.headers.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/**
 * Internal functions accept only the service role: the exact service-role key, or (when a JWT
 * secret is configured) a JWT signed with it whose `role` is `service_role`. Fails closed: with
 * neither configured, nothing is accepted.
 */
export async function requireServiceRole(req: Request, cfg: ServiceAuthConfig): Promise<void> {
  const token = bearerOf(req) ?? req.headers.get("apikey");
  if (!token) throw unauthorized("Missing bearer token");
  if (cfg.serviceRoleKey && timingSafeEqualString(token, cfg.serviceRoleKey)) return;
  if (cfg.jwtSecret) {
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(cfg.jwtSecret), {
        algorithms: ["HS256"],
      });
      if (payload.role === "service_role") return;
    } catch {
      // fall through: an invalid token is the same 401 as a wrong role
    }
  }
  throw unauthorized("Service role required");
}
