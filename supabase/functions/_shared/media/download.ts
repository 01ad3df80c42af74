import type { ChannelFailure } from "../outbound/adapter.ts";
import { classOfStatus } from "../channels/http.ts";
import { bareMime, tooLarge } from "./limits.ts";

export interface Downloaded {
  bytes: Uint8Array;
  /** The Content-Type the server sent, without parameters; empty when it sent none. */
  mime: string;
}

export type DownloadResult = { ok: true; file: Downloaded } | { ok: false; error: ChannelFailure };

/**
 * One file fetched under a deadline and a size cap: a stated Content-Length over the cap is
 * refused before the body is read, and a body that grows past it is cut off, so a large file
 * never fills the isolate's memory.
 */
export async function downloadCapped(
  fetchFn: typeof fetch,
  url: string,
  init: { headers?: Record<string, string>; maxBytes: number; timeoutMs: number; what: string },
): Promise<DownloadResult> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      headers: init.headers,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (err) {
    const timeout = err instanceof Error && err.name === "TimeoutError";
    return {
      ok: false,
      error: {
        class: "retryable",
        code: timeout ? "TIMEOUT" : "NETWORK",
        message: timeout
          ? `The ${init.what} did not download within ${init.timeoutMs} ms`
          : `Could not reach the ${init.what}'s server`,
      },
    };
  }
  if (!res.ok) {
    await res.body?.cancel();
    return {
      ok: false,
      error: {
        class: classOfStatus(res.status),
        code: `HTTP_${res.status}`,
        message: `The ${init.what}'s server answered ${res.status}`,
        httpStatus: res.status,
      },
    };
  }
  const stated = Number(res.headers.get("content-length") ?? NaN);
  if (stated > init.maxBytes) {
    await res.body?.cancel();
    return { ok: false, error: tooLarge(init.what, stated, init.maxBytes) };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > init.maxBytes) {
        await reader.cancel().catch(() => {});
        return { ok: false, error: tooLarge(init.what, size, init.maxBytes) };
      }
      chunks.push(value);
    }
  } catch {
    return {
      ok: false,
      error: {
        class: "retryable",
        code: "NETWORK",
        message: `The ${init.what} download broke off`,
      },
    };
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, file: { bytes, mime: bareMime(res.headers.get("content-type") ?? "") } };
}
