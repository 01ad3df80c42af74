import { z } from "zod";
import { badRequest } from "../../../supabase/functions/_shared/http/errors.ts";

/**
 * The console API's query strings, parsed with zod: anything unexpected (an unknown parameter,
 * a status that does not exist, a limit past the bound) is a 400 naming the parameter, so a
 * typo never silently returns everything.
 */

export const MAX_LIMIT = 500;

const CHANNELS = ["whatsapp", "sms", "messenger", "instagram", "email", "voice"] as const;
const DELIVERY_STATUSES = [
  "queued",
  "sent",
  "delivered",
  "read",
  "failed",
  "received",
  "blocked",
] as const;
const SESSION_STATUSES = ["active", "follow_up", "closed"] as const;

const limit = (fallback: number) =>
  z.string()
    .regex(/^[0-9]{1,6}$/, `must be a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_LIMIT, `must be from 1 to ${MAX_LIMIT}`)
    .optional()
    .transform((n) => n ?? fallback);

/** An optional filter: absent or empty (the page's "all") means no filter. */
const emptyIsAbsent = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  emptyIsAbsent(z.enum(values));

/** Phone numbers are masked unless the operator asked to see them. */
const reveal = z.enum(["0", "1", "true", "false"]).optional()
  .transform((v) => v === "1" || v === "true");

export const SessionId = z.uuid("must be a session id (uuid)");

export const SessionsQuery = z.strictObject({
  limit: limit(50),
  status: oneOf(SESSION_STATUSES),
  reveal,
});

export const MessagesQuery = z.strictObject({ limit: limit(200), reveal });

export const DeliveriesQuery = z.strictObject({
  limit: limit(100),
  status: oneOf(DELIVERY_STATUSES),
  channel: oneOf(CHANNELS),
  direction: oneOf(["inbound", "outbound"]),
  session_id: emptyIsAbsent(SessionId),
  reveal,
});

export const NoQuery = z.strictObject({});

/** Parses the URL's query with the schema, or throws a 400 that names the offending parameter. */
export function parseQuery<T extends z.ZodType>(schema: T, url: URL): z.output<T> {
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    if (seen.has(key)) {
      throw badRequest("VALIDATION.INVALID_QUERY", `${key}: given more than once`, { field: key });
    }
    seen.add(key);
  }
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    throw badRequest("VALIDATION.INVALID_QUERY", `unknown parameter: ${issue.keys.join(", ")}`, {
      field: issue.keys[0],
    });
  }
  const field = issue.path.join(".");
  throw badRequest("VALIDATION.INVALID_QUERY", `${field}: ${issue.message}`, { field });
}

/** Parses one path segment with the schema, or throws a 400 naming it. */
export function parseSegment<T extends z.ZodType>(
  schema: T,
  value: string,
  name: string,
): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw badRequest("VALIDATION.INVALID_PATH", `${name}: ${parsed.error.issues[0].message}`, {
    field: name,
  });
}
