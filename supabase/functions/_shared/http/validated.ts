import type { z } from "zod";
import { badRequest, type HttpError } from "./errors.ts";
import { pgSafe } from "../text/pg-safe.ts";

/** Parses a request body or webhook payload with its schema; the first problem becomes a 400. */
export function validated<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidBody(parsed.error);
}

/**
 * A URL's query parameters parsed with their schema, each value made storable first (pgSafe: a
 * NUL or lone surrogate in a query is a character lost, never a 500 from Postgres).
 */
export function validatedQuery<T>(schema: z.ZodType<T>, url: URL | string): T {
  const params = (typeof url === "string" ? new URL(url) : url).searchParams;
  return validated(schema, pgSafe(Object.fromEntries(params)));
}

/** The one shape of a validation failure: `VALIDATION.INVALID_BODY`, naming the field. */
export function invalidBody(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const field = issue.path.join(".");
  return badRequest("VALIDATION.INVALID_BODY", `${field || "body"}: ${issue.message}`, {
    field: field || undefined,
  });
}
