/** A JSON object as it crosses the SQL boundary (jsonb context, metadata): keys to any JSON value. */
export type JsonObject = Record<string, unknown>;
