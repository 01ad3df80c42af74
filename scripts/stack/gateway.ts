import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";

/** A function the gateway can route to. `origin` starts it if needed and says where it listens. */
export interface GatewayRoute {
  verifyJwt: boolean;
  origin(): Promise<string>;
}

/**
 * Another API the gateway serves beside the functions, under its own path prefix (for instance
 * `/storage/v1/`): every request whose path starts with `prefix` goes to `handler` as it came,
 * method, path, headers and body untouched; the handler does its own auth.
 */
export interface GatewayMount {
  prefix: string;
  handler: (req: Request) => Response | Promise<Response>;
}

export interface GatewayOptions {
  routes: (name: string) => GatewayRoute | undefined;
  /** Served before the functions, first matching prefix wins (see GatewayMount). */
  mounts?: GatewayMount[];
  /** The project's signing keys: JWTs they signed (ES256/RS256) pass verify_jwt. */
  jwks?: JSONWebKeySet;
  /** The legacy JWT secret: HS256 JWTs it signed pass too, while the legacy keys are enabled. */
  jwtSecret?: string;
  fetch?: typeof fetch;
  /** For tests: the clock the verified-token cache expires by (ms since the epoch). */
  now?: () => number;
}

const FUNCTIONS = "/functions/v1/";
const NAME = /^[A-Za-z0-9_-]+$/;

// Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
]);
// Set by the gateway on the way in.
const REPLACED = new Set([
  ...HOP_BY_HOP,
  "accept-encoding",
  "x-forwarded-host",
  "x-forwarded-proto",
]);

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

/** Tokens remembered as verified at most this long, and at most this many. */
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1024;

/**
 * The functions gateway, shaped like Supabase's: `/functions/v1/<name>[/sub/path]` reaches the
 * function as `/<name>[/sub/path]`, verify_jwt is enforced per function with the signing keys'
 * JWKS and the legacy JWT secret (same 401 bodies as Supabase's relay), and method, headers, raw body and status pass through
 * streaming. Unlike hosted Supabase it also answers CORS itself, so the console page on another
 * port can call functions; hosted functions that serve browsers must send their own CORS headers.
 *
 * The path per request is kept short: the URL is sliced, not parsed, unless it has dot segments
 * or escapes; a token that verified is remembered until its `exp` (at most 5 minutes, at most
 * 1,024 tokens), so the same API key is checked once, not on every call; bodies stream both ways
 * without being read here; and the function processes are reached over kept-alive connections
 * (fetch's pool).
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
  const now = opts.now ?? Date.now;
  // Each key verifies only its own algorithms: an HS256 token is never checked against the JWKS.
  const verifiers = [
    ...(jwks
      ? [
        (t: string) =>
          jwtVerify(t, jwks, { algorithms: ["ES256", "RS256"], currentDate: new Date(now()) }),
      ]
      : []),
    ...(secret
      ? [
        async (t: string) =>
          jwtVerify(t, await secret, { algorithms: ["HS256"], currentDate: new Date(now()) }),
      ]
      : []),
  ];
  const doFetch = opts.fetch ?? fetch;
  const mounts = opts.mounts ?? [];

  /** Token → until when it counts as verified (ms). Only successes are kept. */
  const verified = new Map<string, number>();
  const verify = async (token: string): Promise<boolean> => {
    const until = verified.get(token);
    if (until !== undefined) {
      if (until > now()) return true;
      verified.delete(token);
    }
    for (const check of verifiers) {
      const exp = await check(token).then((r) => r.payload.exp ?? Infinity, () => null);
      if (exp === null) continue;
      if (verified.size >= VERIFIED_MAX) verified.clear();
      verified.set(token, Math.min(exp * 1000, now() + VERIFIED_TTL_MS));
      return true;
    }
    return false;
  };

  const authProblem = async (req: Request): Promise<string | null> => {
    const header = req.headers.get("authorization");
    if (!header) return "Error: Missing authorization header";
    const [scheme, token] = header.split(" ");
    if (scheme !== "Bearer" || !token) return "Error: Auth header is not 'Bearer {token}'";
    return await verify(token) ? null : "Invalid JWT";
  };

  return async (req) => {
    const { pathname, search, host, protocol } = target(req.url);
    for (const mount of mounts) {
      if (pathname.startsWith(mount.prefix)) return await mount.handler(req);
    }
    const slash = pathname.indexOf("/", FUNCTIONS.length);
    const name = pathname.startsWith(FUNCTIONS)
      ? pathname.slice(FUNCTIONS.length, slash < 0 ? undefined : slash)
      : "";
    const route = NAME.test(name) ? opts.routes(name) : undefined;
    if (!route) {
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

    // One pass over the headers into a list (cheaper than copying them and deleting).
    const headers: [string, string][] = [
      // Identity, so the body reaches the client exactly as the function wrote it.
      ["accept-encoding", "identity"],
      ["x-forwarded-host", host],
      ["x-forwarded-proto", protocol],
    ];
    for (const h of req.headers) if (!REPLACED.has(h[0])) headers.push(h);
    const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";

    let upstream: Response;
    try {
      upstream = await doFetch(origin + pathname.slice(FUNCTIONS.length - 1) + search, {
        method: req.method,
        headers,
        body: hasBody ? req.body : undefined,
        redirect: "manual",
        ...(hasBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch {
      return msg(502, { code: "BAD_GATEWAY", message: "The function did not answer" });
    }

    const out: [string, string][] = [];
    let cors = false;
    for (const h of upstream.headers) {
      if (HOP_BY_HOP.has(h[0])) continue;
      if (h[0] === "access-control-allow-origin") cors = true;
      out.push(h);
    }
    if (!cors) {
      out.push(["access-control-allow-origin", CORS_HEADERS["access-control-allow-origin"]]);
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: out,
    });
  };
}

/**
 * The parts of a request URL the gateway uses. A plain absolute URL (`http://host/path?query`,
 * what servers hand over) is sliced; one with dot segments, escapes or backslashes goes through
 * the URL parser, so `/functions/v1/a/../b` routes to `b` exactly as before.
 */
export function target(
  url: string,
): { pathname: string; search: string; host: string; protocol: string } {
  const scheme = url.indexOf("://");
  const start = scheme < 0 ? -1 : url.indexOf("/", scheme + 3);
  if (start > 0) {
    const q = url.indexOf("?", start);
    const pathname = q < 0 ? url.slice(start) : url.slice(start, q);
    if (!/[%.\\#]/.test(pathname) && !url.includes("#")) {
      return {
        pathname,
        search: q < 0 || q === url.length - 1 ? "" : url.slice(q),
        host: url.slice(scheme + 3, start),
        protocol: url.slice(0, scheme),
      };
    }
  }
  const u = new URL(url);
  return {
    pathname: u.pathname,
    search: u.search,
    host: u.host,
    protocol: u.protocol.slice(0, -1),
  };
}
