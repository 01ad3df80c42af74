import { HttpError } from "./errors.ts";
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
 * Wraps a handler: expected failures (HttpError) become their status and stable code; anything
 * else is logged with its stack and becomes a bare 500, so internals never reach the caller.
 * Every response carries the correlation id.
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
      if (err instanceof HttpError) {
        const extra = err.status === 405 && err.details?.allowed
          ? { allow: (err.details.allowed as string[]).join(", ") }
          : undefined;
        res = json(
          { error: { code: err.code, message: err.message, ...(err.details ?? {}) } },
          err.status,
          extra,
        );
      } else {
        logger.error("UNHANDLED_ERROR", {
          correlation_id: correlationId,
          error: err instanceof Error ? err.message : String(err),
          stack: err instanceof Error ? err.stack : undefined,
        });
        res = json({ error: { code: "INTERNAL", message: "Internal error" } }, 500);
      }
    }
    const headers = new Headers(res.headers);
    headers.set(CORRELATION_HEADER, correlationId);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
