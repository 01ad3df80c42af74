import { pgSafe } from "../text/pg-safe.ts";
import { badRequest, payloadTooLarge, requestTimeout } from "./errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
/** A whole body arrives within this, or the request is answered 408 and its connection freed. */
export const BODY_DEADLINE_MS = 10_000;

/**
 * Reads the raw body, refusing (413) as soon as it passes `limit` bytes: a declared
 * Content-Length over the limit is refused before reading, and a chunked body is cut off while
 * streaming, so an oversized body never sits in memory whole. A body still incomplete after
 * `deadlineMs` (a client that sends slowly or never finishes) is cancelled with 408, so slow
 * clients cannot hold the function's requests open.
 */
export async function readRawBody(
  req: Request,
  limit = MAX_BODY_BYTES,
  deadlineMs = BODY_DEADLINE_MS,
): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(requestTimeout(deadlineMs)), deadlineMs);
  });
  try {
    return concat(await Promise.race([readAll(reader, limit), expired]));
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    size += value.byteLength;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(value);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** A JSON body, its strings made safe for Postgres (every JSON endpoint parses through here). */
export function parseJson(raw: Uint8Array): unknown {
  return jsonBody(raw).json();
}

/**
 * A body parsed once, for a handler that must read it before checking its signature (to know
 * whose secret signs it): `peek` is the JSON as it stands (null when it is none; never written
 * or acted on), and `json()`, called once the signature holds, is what parseJson would answer —
 * the same value made safe for Postgres, or the same 400.
 */
export function jsonBody(raw: Uint8Array): { peek: unknown; json(): unknown } {
  let value: unknown = null;
  let valid = true;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    valid = false;
    try {
      // Not UTF-8: read leniently, only to find the signer; json() refuses it.
      value = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      value = null;
    }
  }
  return {
    peek: value,
    json() {
      if (!valid) throw badRequest("HTTP.MALFORMED_JSON", "Body is not valid JSON");
      return pgSafe(value);
    },
  };
}
