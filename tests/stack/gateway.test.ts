import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type GatewayRoute, target } from "../../scripts/stack/gateway.ts";
import { deriveKeys, LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";
import { serve, type Served } from "../support/serve.ts";
import { projectKeys } from "../support/auth.ts";

/** An upstream "function" that answers with what it saw. */
async function echo(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/stream/slow") {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    (globalThis as { releaseStream?: () => void }).releaseStream = release;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("first;"));
        await released;
        controller.enqueue(new TextEncoder().encode("second"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  }
  const body = new Uint8Array(await req.arrayBuffer());
  return Response.json({
    method: req.method,
    path: url.pathname + url.search,
    custom: req.headers.get("x-custom"),
    bytes: Array.from(body),
  }, { status: 207, headers: { "x-from-function": "yes" } });
}

let upstream: Served;
let gateway: Served;
const routes: Record<string, GatewayRoute> = {};

beforeAll(async () => {
  upstream = await serve(echo);
  const origin = () => Promise.resolve(upstream.url);
  routes.public = { verifyJwt: false, origin };
  routes.echo = { verifyJwt: true, origin };
  routes.stream = { verifyJwt: false, origin };
  routes.broken = { verifyJwt: false, origin: () => Promise.reject(new Error("boot failed")) };
  gateway = await serve(createGateway({ routes: (n) => routes[n], jwtSecret: LOCAL_JWT_SECRET }));
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe("functions gateway", () => {
  it("strips /functions/v1 and passes method, headers, raw bytes, query and status through", async () => {
    const bytes = new Uint8Array([0, 255, 10, 13, 128, 1]);
    const res = await fetch(`${gateway.url}/functions/v1/public/sub/path?x=1&y=2`, {
      method: "PUT",
      headers: { "x-custom": "kept", "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(res.status).toBe(207);
    expect(res.headers.get("x-from-function")).toBe("yes");
    expect(await res.json()).toEqual({
      method: "PUT",
      path: "/public/sub/path?x=1&y=2",
      custom: "kept",
      bytes: Array.from(bytes),
    });
  });

  it("streams the response: the first chunk arrives before the function finishes", async () => {
    const res = await fetch(`${gateway.url}/functions/v1/stream/slow`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first;");
    (globalThis as { releaseStream?: () => void }).releaseStream!();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    expect(rest).toBe("second");
  });

  it("enforces verify_jwt with Supabase's 401 bodies", async () => {
    const call = (headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}/functions/v1/echo`, { headers });
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ msg: "Error: Missing authorization header" });

    const forged = await new SignJWT({ role: "service_role" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret"));
    const expired = await new SignJWT({ role: "anon", exp: 1_000_000 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
    for (const token of [forged, expired, "garbage"]) {
      const res = await call({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ msg: "Invalid JWT" });
    }

    const { anon } = await deriveKeys(LOCAL_JWT_SECRET);
    const ok = await call({ authorization: `Bearer ${anon}` });
    expect(ok.status).toBe(207);
    expect((await ok.json()).path).toBe("/echo");
  });

  it("with signing keys, lets ES256 JWTs from the JWKS through and no HS256 token once legacy is off", async () => {
    const keys = await projectKeys();
    const own = await serve(createGateway({
      routes: (n) => routes[n],
      jwks: JSON.parse(keys.env.SUPABASE_JWKS),
    }));
    try {
      const call = (token: string) =>
        fetch(`${own.url}/functions/v1/echo`, { headers: { authorization: `Bearer ${token}` } });
      const ok = await call(await keys.userToken());
      expect(ok.status).toBe(207);
      await ok.body?.cancel();
      const { anon } = await deriveKeys(LOCAL_JWT_SECRET);
      const other = await projectKeys();
      for (
        const token of [anon, await other.userToken(), await keys.userToken({}, { exp: 1_000_000 })]
      ) {
        const res = await call(token);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ msg: "Invalid JWT" });
      }
    } finally {
      await own.close();
    }
  });

  it("answers unknown functions 404, CORS preflight 204, and a function that cannot start 503", async () => {
    const unknown = await fetch(`${gateway.url}/functions/v1/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "NOT_FOUND" });
    expect((await fetch(`${gateway.url}/rest/v1/anything`)).status).toBe(404);

    const preflight = await fetch(`${gateway.url}/functions/v1/echo`, {
      method: "OPTIONS",
      headers: { origin: "http://127.0.0.1:54323", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");

    const broken = await fetch(`${gateway.url}/functions/v1/broken`);
    expect(broken.status).toBe(503);
    expect(await broken.json()).toMatchObject({ code: "BOOT_ERROR" });
  });
});

describe("functions gateway: the per-request path", () => {
  it("remembers a verified token only until its exp: after it, the same token is refused", async () => {
    let clock = Date.UTC(2030, 0, 1);
    const own = await serve(createGateway({
      routes: (n) => routes[n],
      jwtSecret: LOCAL_JWT_SECRET,
      now: () => clock,
    }));
    try {
      const token = await new SignJWT({ role: "anon", exp: clock / 1000 + 60 })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
      const call = () =>
        fetch(`${own.url}/functions/v1/echo`, { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i++) {
        const ok = await call();
        expect(ok.status).toBe(207);
        await ok.body?.cancel();
      }
      clock += 61_000;
      const late = await call();
      expect(late.status).toBe(401);
      expect(await late.json()).toEqual({ msg: "Invalid JWT" });
      // A forged token is refused while a good one is remembered.
      const forged = await new SignJWT({ role: "service_role", exp: clock / 1000 + 60 })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret"));
      const refused = await fetch(`${own.url}/functions/v1/echo`, {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(refused.status).toBe(401);
      await refused.body?.cancel();
    } finally {
      await own.close();
    }
  });

  it("hands requests under a mount's prefix to it as they came, and routes functions beside it", async () => {
    const seen: string[] = [];
    const own = await serve(createGateway({
      routes: (n) => routes[n],
      mounts: [{
        prefix: "/storage/v1/",
        handler: async (req) => {
          seen.push(`${req.method} ${new URL(req.url).pathname} ${await req.text()}`);
          return new Response("stored", { status: 201 });
        },
      }],
    }));
    try {
      const stored = await fetch(`${own.url}/storage/v1/object/bucket/a.txt`, {
        method: "POST",
        body: "bytes",
      });
      expect(stored.status).toBe(201);
      expect(await stored.text()).toBe("stored");
      expect(seen).toEqual(["POST /storage/v1/object/bucket/a.txt bytes"]);
      const fn = await fetch(`${own.url}/functions/v1/public/x?y=1`);
      expect((await fn.json()).path).toBe("/public/x?y=1");
      expect((await fetch(`${own.url}/storage/v2/x`)).status).toBe(404);
    } finally {
      await own.close();
    }
  });

  it("reads the URL as the URL parser does: dot segments and escapes resolve before routing", () => {
    for (
      const url of [
        "http://127.0.0.1:54321/functions/v1/health",
        "http://127.0.0.1:54321/functions/v1/health/sub?x=1&y=%20",
        "http://127.0.0.1:54321/functions/v1/health?",
        "http://127.0.0.1:54321/functions/v1/public/../echo",
        "http://127.0.0.1:54321/functions/v1/%65cho",
        "http://localhost/functions/v1/a/./b",
      ]
    ) {
      const u = new URL(url);
      expect(target(url), url).toEqual({
        pathname: u.pathname,
        search: u.search,
        host: u.host,
        protocol: u.protocol.slice(0, -1),
      });
    }
  });
});
