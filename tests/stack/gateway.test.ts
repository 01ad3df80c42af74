import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type GatewayRoute } from "../../scripts/stack/gateway.ts";
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
