import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../log/logger.ts";
import { withErrors } from "./respond.ts";
import { validated } from "./validated.ts";

/** A handler wrapped in the one skeleton, with the log lines it wrote. */
function wrapped(work: (req: Request) => Promise<Response>) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ sink: (l) => lines.push(JSON.parse(l)) });
  return { handler: withErrors(logger, (req) => work(req)), lines };
}

const call = (handler: (req: Request) => Promise<Response>) =>
  handler(
    new Request("http://localhost/x", { method: "POST", headers: { "x-correlation-id": "c-1" } }),
  );

describe("withErrors: the one handler skeleton", () => {
  it("adds the correlation id to every response, its own or one passed on with immutable headers", async () => {
    const own = await call(
      wrapped(() => Promise.resolve(Response.json({ ok: 1 }, { status: 201 }))).handler,
    );
    expect(own.status).toBe(201);
    expect(own.headers.get("x-correlation-id")).toBe("c-1");
    expect(await own.json()).toEqual({ ok: 1 });

    // Response.redirect's headers are immutable, as a response from fetch is.
    const passed = await call(
      wrapped(() => Promise.resolve(Response.redirect("http://localhost/next", 302))).handler,
    );
    expect(passed.status).toBe(302);
    expect(passed.headers.get("location")).toBe("http://localhost/next");
    expect(passed.headers.get("x-correlation-id")).toBe("c-1");
  });

  it("turns an unreachable database into a 503 the caller can retry, logged once", async () => {
    const { handler, lines } = wrapped(() =>
      Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))
    );
    const res = await call(handler);
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("HTTP.UNAVAILABLE");
    expect(res.headers.get("x-correlation-id")).toBe("c-1");
    expect(lines.map((l) => [l.event, l.code])).toEqual([["DATABASE_UNAVAILABLE", "ECONNREFUSED"]]);
  });

  it("turns a zod error into a 400 naming the field, the same shape as validated()", async () => {
    const Body = z.object({ call_id: z.string() });
    const thrown = wrapped(() => Promise.resolve(Body.parse({ call_id: 7 }) && new Response()));
    const viaValidated = wrapped(() =>
      Promise.resolve(validated(Body, { call_id: 7 }) && new Response())
    );
    for (const { handler } of [thrown, viaValidated]) {
      const res = await call(handler);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({
        code: "VALIDATION.INVALID_BODY",
        field: "call_id",
      });
    }
  });

  it("keeps internals out of a bare 500 and logs the stack", async () => {
    const { handler, lines } = wrapped(() => Promise.reject(new Error("secret detail")));
    const res = await call(handler);
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("secret detail");
    expect(lines[0]).toMatchObject({ event: "UNHANDLED_ERROR", error: "secret detail" });
  });
});
