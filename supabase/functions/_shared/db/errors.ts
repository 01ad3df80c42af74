/**
 * Errors that mean "the database is not reachable right now" (connection refused, reset, pool
 * timeout, server shutting down) — a caller should answer 503 so the provider retries later.
 */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "08000",
  "08001",
  "08003",
  "08006",
]);

/** Every SQLSTATE the code reacts to is named here, and only here. */
const NO_DATA_FOUND = "P0002";
const UNIQUE_VIOLATION = "23505";
/** Ours: an idempotency key sent again with a different request (accept_api_message). */
const KEY_REUSED = "OM409";
/** Ours: a conversation move its state does not allow (assign_conversation, …). */
const INVALID_TRANSITION = "OM422";
/** Ours: an agent acting on a conversation assigned to someone else (move_conversation). */
const NOT_YOURS = "OM403";

/** The idempotency key was first used with another request body. */
export function isKeyReused(err: unknown): boolean {
  return (err as { code?: unknown })?.code === KEY_REUSED;
}

/** The conversation is not in a state that allows this move. */
export function isInvalidTransition(err: unknown): boolean {
  return (err as { code?: unknown })?.code === INVALID_TRANSITION;
}

/** The conversation is assigned to another agent. */
export function isNotYours(err: unknown): boolean {
  return (err as { code?: unknown })?.code === NOT_YOURS;
}

/** A PL/pgSQL `raise … using errcode = 'no_data_found'` (e.g. a session id that does not exist). */
export function isNoDataFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === NO_DATA_FOUND;
}

/** Another writer inserted the same key first. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === UNIQUE_VIOLATION;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}
