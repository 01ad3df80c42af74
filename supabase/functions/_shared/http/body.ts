import { pgSafe } from "../text/pg-safe.ts";
import { badRequest, payloadTooLarge } from "./errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the raw body, refusing (413) as soon as it passes `limit` bytes: a declared
 * Content-Length over the limit is refused before reading, and a chunked body is cut off while
 * streaming, so an oversized body never sits in memory whole.
 */
export async function readRawBody(req: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** A JSON body, its strings made safe for Postgres (every JSON endpoint parses through here). */
export function parseJson(raw: Uint8Array): unknown {
  try {
    return pgSafe(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)));
  } catch {
    throw badRequest("HTTP.MALFORMED_JSON", "Body is not valid JSON");
  }
}
