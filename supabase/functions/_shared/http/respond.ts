import { ZodError } from "zod";
import { HttpError, serviceUnavailable } from "./errors.ts";
import { invalidBody } from "./validated.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import type { Logger } from "../log/logger.ts";

export const CORRELATION_HEADER = "x-correlation-id";

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** Correlation id from the request (bounded, printable) or a new one. */
export function correlationIdOf(req: Request): string {
  const given = req.headers.get(CORRELATION_HEADER);
  if (given && /^[\w.:-]{1,128}$/.test(given)) return given;
  return crypto.randomUUID();
}

/**
 * The one handler skeleton. Expected failures (HttpError) become their status and stable code;
 * a zod error becomes a 400 naming the field (`VALIDATION.INVALID_BODY`); an unreachable
 * database becomes a 503 (`HTTP.UNAVAILABLE`), so the caller or provider retries, and nothing
 * was answered as recorded; anything else is logged with its stack and becomes a bare 500, so
 * internals never reach the caller. Every response carries the correlation id.
 */
export function withErrors(
  logger: Logger,
  handler: (req: Request, correlationId: string) => Promise<Response>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const correlationId = correlationIdOf(req);
    let res: Response;
    try {
      res = await handler(req, correlationId);
    } catch (err) {
      res = errorResponse(expected(err, logger, correlationId));
    }
    try {
      // A response built here has headers of its own to add to: no copy of it per request.
      res.headers.set(CORRELATION_HEADER, correlationId);
      return res;
    } catch {
      // Immutable headers (a response passed on from fetch): copied once.
      const headers = new Headers(res.headers);
      headers.set(CORRELATION_HEADER, correlationId);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }
  };
}

/** The HttpError a failure means for the caller; null for a bug (logged here with its stack). */
function expected(err: unknown, logger: Logger, correlationId: string): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) return invalidBody(err);
  if (isDatabaseUnavailable(err)) {
    logger.error("DATABASE_UNAVAILABLE", {
      correlation_id: correlationId,
      code: (err as { code: string }).code,
    });
    return serviceUnavailable();
  }
  logger.error("UNHANDLED_ERROR", {
    correlation_id: correlationId,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return null;
}

function errorResponse(err: HttpError | null): Response {
  if (!err) return json({ error: { code: "INTERNAL", message: "Internal error" } }, 500);
  const extra = err.status === 405 && err.details?.allowed
    ? { allow: (err.details.allowed as string[]).join(", ") }
    : undefined;
  return json(
    { error: { code: err.code, message: err.message, ...(err.details ?? {}) } },
    err.status,
    extra,
  );
}
