import type { ChannelFailure, ErrorClass } from "../outbound/adapter.ts";

/** Shared by the adapters: one HTTP exchange with a provider, failures as values. */

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_MESSAGE_CHARS = 300;

export interface ProviderReply {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export type Exchange = { ok: true; reply: ProviderReply } | { ok: false; failure: ChannelFailure };

/**
 * One request under one deadline (headers and body both), so a provider that accepts the
 * connection and then stalls still ends as TIMEOUT. Only a network failure or the deadline
 * ends here as a failure: every HTTP answer, 4xx/5xx included, is the adapter's to classify.
 */
export async function exchange(
  fetchFn: typeof fetch,
  url: URL,
  init: RequestInit,
  timeoutMs: number,
): Promise<Exchange> {
  try {
    const res = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { ok: true, reply: { status: res.status, headers: res.headers, json: parseJson(text) } };
  } catch (err) {
    return { ok: false, failure: transportFailure(err, timeoutMs) };
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function transportFailure(err: unknown, timeoutMs: number): ChannelFailure {
  const name = err instanceof Error || err instanceof DOMException ? err.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return { class: "retryable", code: "TIMEOUT", message: `No answer within ${timeoutMs} ms` };
  }
  // Node puts the socket error code (ECONNREFUSED, ENOTFOUND, …) on `cause`; it is safe to keep.
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  const detail = typeof cause === "string" && /^[A-Z_]{2,32}$/.test(cause) ? ` (${cause})` : "";
  return { class: "retryable", code: "NETWORK", message: `Could not reach the provider${detail}` };
}

/** Rate limits, timeouts and server errors can pass; any other 4xx will fail the same way again. */
export function classOfStatus(status: number): ErrorClass {
  return status === 408 || status === 425 || status === 429 || status >= 500
    ? "retryable"
    : "permanent";
}

/** `Retry-After` as milliseconds (seconds or an HTTP date), when the provider sent one. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Provider text made safe to log and store: no control characters, bounded length. */
export function safeMessage(text: string): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…` : flat;
}

/** A failure for an HTTP answer whose body we could not read as the provider's error shape. */
export function httpFailure(reply: ProviderReply): ChannelFailure {
  return withRetryAfter(reply, {
    class: classOfStatus(reply.status),
    code: `HTTP_${reply.status}`,
    message: `The provider answered HTTP ${reply.status}`,
    httpStatus: reply.status,
  });
}

/**
 * A 2xx whose body is not the documented success shape. The provider probably accepted the
 * message, so a retry could send it twice: permanent, and the message says why.
 */
export function unreadableSuccess(reply: ProviderReply): ChannelFailure {
  return {
    class: "permanent",
    code: "INVALID_RESPONSE",
    message: `The provider answered HTTP ${reply.status} with a body we could not read; ` +
      "the message may have been sent",
    httpStatus: reply.status,
  };
}

export function withRetryAfter(reply: ProviderReply, failure: ChannelFailure): ChannelFailure {
  const after = failure.class === "retryable" ? retryAfterMs(reply.headers) : undefined;
  const out = reply.status === 429 ? { ...failure, throttled: true } : failure;
  return after === undefined ? out : { ...out, retryAfterMs: after };
}

export const notConfigured = (missing: string[]): ChannelFailure => ({
  class: "permanent",
  code: "CHANNEL.NOT_CONFIGURED",
  message: `Not configured: ${missing.join(", ")} missing`,
});

export const invalidRecipient = (): ChannelFailure => ({
  class: "permanent",
  code: "INVALID_RECIPIENT",
  message: "The recipient is not a phone number in E.164 form",
});

/** `base` + path segments, keeping any path the base already has (`…/v21.0`). */
export function joinUrl(base: string, path: string): URL {
  return new URL(`${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`);
}

/** Fails at start-up, not on the first message, when a configured base URL is not a URL. */
export function assertBaseUrl(name: string, base: string | undefined): void {
  if (base !== undefined && !URL.canParse(base)) throw new TypeError(`${name} is not a URL`);
}

/** The names of the config fields that are missing or empty. */
export function missingFields(fields: Record<string, string | undefined>): string[] {
  return Object.entries(fields).filter(([, v]) => !v?.trim()).map(([k]) => k);
}
