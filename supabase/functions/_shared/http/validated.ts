import type { z } from "zod";
import { badRequest } from "./errors.ts";

/** Parses a webhook payload with its schema; the first problem becomes a 400 naming the field. */
export function validated<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".");
  throw badRequest("VALIDATION.INVALID_BODY", `${field || "body"}: ${issue.message}`, {
    field: field || undefined,
  });
}
