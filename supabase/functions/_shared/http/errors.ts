/**
 * One error type for every expected failure at the HTTP edge. `code` is stable (clients and
 * tests match on it); `message` is written for the caller and never contains internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new HttpError(400, code, message, details);
export const unauthorized = (message = "Unauthorized") =>
  new HttpError(401, "AUTH.UNAUTHORIZED", message);
export const forbidden = (message = "Forbidden") => new HttpError(403, "AUTH.FORBIDDEN", message);
export const methodNotAllowed = (allowed: string[]) =>
  new HttpError(405, "HTTP.METHOD_NOT_ALLOWED", `Use ${allowed.join(" or ")}`, { allowed });
export const requestTimeout = (ms: number) =>
  new HttpError(408, "HTTP.REQUEST_TIMEOUT", `The body did not arrive within ${ms / 1000} s`);
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, "HTTP.PAYLOAD_TOO_LARGE", `Body exceeds ${limit} bytes`);
export const serviceUnavailable = (message = "Temporarily unavailable, retry later") =>
  new HttpError(503, "HTTP.UNAVAILABLE", message);
