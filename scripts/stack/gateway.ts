import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";

/** A function the gateway can route to. `origin` starts it if needed and says where it listens. */
export interface GatewayRoute {
  verifyJwt: boolean;
  origin(): Promise<string>;
}

export interface GatewayOptions {
  routes: (name: string) => GatewayRoute | undefined;
  /** The project's signing keys: JWTs they signed (ES256/RS256) pass verify_jwt. */
  jwks?: JSONWebKeySet;
  /** The legacy JWT secret: HS256 JWTs it signed pass too, while the legacy keys are enabled. */
  jwtSecret?: string;
  fetch?: typeof fetch;
}

const PREFIX = /^\/functions\/v1\/([A-Za-z0-9_-]+)(\/.*)?$/;

// Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
];

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, x-correlation-id",
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-max-age": "86400",
};

const msg = (status: number, body: Record<string, unknown>) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS_HEADERS },
  });

/**
 * The functions gateway, shaped like Supabase's: `/functions/v1/<name>[/sub/path]` reaches the
 * function as `/<name>[/sub/path]`, verify_jwt is enforced per function with the signing keys'
 * JWKS and the legacy JWT secret (same 401 bodies as Supabase's relay), and method, headers, raw body and status pass through
 * streaming. Unlike hosted Supabase it also answers CORS itself, so the console page on another
 * port can call functions; hosted functions that serve browsers must send their own CORS headers.
 */
export function createGateway(opts: GatewayOptions): (req: Request) => Promise<Response> {
  const jwks = opts.jwks && createLocalJWKSet(opts.jwks);
  // Imported once: jose would import a raw secret again on every verification. (The JWKS keys
  // are cached by the local key set itself.)
  const secret = opts.jwtSecret &&
    crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(opts.jwtSecret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
  // Each key verifies only its own algorithms: an HS256 token is never checked against the JWKS.
  const verifiers = [
    ...(jwks ? [(t: string) => jwtVerify(t, jwks, { algorithms: ["ES256", "RS256"] })] : []),
    ...(secret ? [async (t: string) => jwtVerify(t, await secret, { algorithms: ["HS256"] })] : []),
  ];
  const doFetch = opts.fetch ?? fetch;

  const authProblem = async (req: Request): Promise<string | null> => {
    const header = req.headers.get("authorization");
    if (!header) return "Error: Missing authorization header";
    const [scheme, token] = header.split(" ");
    if (scheme !== "Bearer" || !token) return "Error: Auth header is not 'Bearer {token}'";
    for (const verify of verifiers) {
      if (await verify(token).then(() => true, () => false)) return null;
    }
    return "Invalid JWT";
  };

  return async (req) => {
    const url = new URL(req.url);
    const match = url.pathname.match(PREFIX);
    const route = match ? opts.routes(match[1]) : undefined;
    if (!match || !route) {
      return msg(404, { code: "NOT_FOUND", message: "Requested function was not found" });
    }
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS_HEADERS });
    if (route.verifyJwt) {
      const problem = await authProblem(req);
      if (problem) return msg(401, { msg: problem });
    }

    let origin: string;
    try {
      origin = await route.origin();
    } catch {
      return msg(503, {
        code: "BOOT_ERROR",
        message: "Function failed to start (please check logs)",
      });
    }

    const headers = new Headers(req.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    // Identity, so the body reaches the client exactly as the function wrote it.
    headers.set("accept-encoding", "identity");
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    const hasBody = req.method !== "GET" && req.method !== "HEAD";

    let upstream: Response;
    try {
      upstream = await doFetch(`${origin}/${match[1]}${match[2] ?? ""}${url.search}`, {
        method: req.method,
        headers,
        body: hasBody ? req.body : undefined,
        redirect: "manual",
        ...(hasBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch {
      return msg(502, { code: "BAD_GATEWAY", message: "The function did not answer" });
    }

    const out = new Headers(upstream.headers);
    for (const h of HOP_BY_HOP) out.delete(h);
    if (!out.has("access-control-allow-origin")) {
      out.set("access-control-allow-origin", CORS_HEADERS["access-control-allow-origin"]);
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: out,
    });
  };
}
