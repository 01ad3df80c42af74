import { describe, expect, it } from "vitest";
import { BODY_DEADLINE_MS, MAX_BODY_BYTES, parseJson, readRawBody } from "./body.ts";
import { HttpError } from "./errors.ts";

function streamOf(chunks: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent++ >= chunks) return c.close();
      c.enqueue(new Uint8Array(size).fill(120));
    },
  });
}

describe("readRawBody", () => {
  it("returns the exact bytes of a body under the cap", async () => {
    const req = new Request("http://x/", { method: "POST", body: "héllo" });
    expect(new TextDecoder().decode(await readRawBody(req))).toBe("héllo");
  });

  it("refuses a declared Content-Length over 1 MiB with 413", async () => {
    const req = new Request("http://x/", {
      method: "POST",
      body: "x",
      headers: { "content-length": String(MAX_BODY_BYTES + 1) },
    });
    await expect(readRawBody(req)).rejects.toMatchObject({ status: 413 });
  });

  it("refuses a chunked body once it passes the cap, without a Content-Length", async () => {
    const req = new Request("http://x/", {
      method: "POST",
      body: streamOf(20, 64 * 1024),
      // @ts-expect-error: duplex is required by Node for streamed bodies
      duplex: "half",
    });
    const err = await readRawBody(req).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(413);
  });

  it("accepts a body of exactly the cap", async () => {
    const req = new Request("http://x/", { method: "POST", body: new Uint8Array(MAX_BODY_BYTES) });
    expect((await readRawBody(req)).byteLength).toBe(MAX_BODY_BYTES);
  });
});

describe("readRawBody deadline", () => {
  /** A body that sends one byte, then nothing, ever; `cancelled` turns true when it is dropped. */
  function stalled() {
    const state = { cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([123]));
      },
      cancel() {
        state.cancelled = true;
      },
    });
    // @ts-expect-error: duplex is required by Node for streamed bodies
    return { state, req: new Request("http://x/", { method: "POST", body, duplex: "half" }) };
  }

  it("waits 10 s by default", () => {
    expect(BODY_DEADLINE_MS).toBe(10_000);
  });

  it("answers 408 and cancels the body when it never ends, for 200 slow clients at once", async () => {
    const clients = Array.from({ length: 200 }, stalled);
    const errors = await Promise.all(
      clients.map(({ req }) => readRawBody(req, MAX_BODY_BYTES, 50).catch((e) => e)),
    );
    for (const err of errors) {
      expect(err).toBeInstanceOf(HttpError);
      expect(err).toMatchObject({ status: 408, code: "HTTP.REQUEST_TIMEOUT" });
    }
    expect(clients.every((c) => c.state.cancelled)).toBe(true);
  });

  it("reads a body that completes before the deadline", async () => {
    const req = new Request("http://x/", { method: "POST", body: "done" });
    expect(new TextDecoder().decode(await readRawBody(req, MAX_BODY_BYTES, 50))).toBe("done");
  });
});

describe("parseJson", () => {
  it("parses JSON and turns malformed JSON or invalid UTF-8 into a 400", () => {
    expect(parseJson(new TextEncoder().encode('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJson(new TextEncoder().encode("{"))).toThrow(
      expect.objectContaining({ status: 400, code: "HTTP.MALFORMED_JSON" }),
    );
    expect(() => parseJson(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});
