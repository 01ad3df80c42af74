import { badRequest } from "../http/errors.ts";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A page's cursor: the last row's sort time and id, opaque to the caller (GET /messages, the inbox). */
export function encodeCursor(createdAt: string, id: string): string {
  return btoa(`${createdAt}|${id}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = atob(cursor.replaceAll("-", "+").replaceAll("_", "/")).split("|");
    if (!UUID.test(id) || Number.isNaN(Date.parse(createdAt))) throw new Error();
    return { createdAt, id };
  } catch {
    throw badRequest("VALIDATION.INVALID_QUERY", "cursor: not a cursor this API gave", {
      field: "cursor",
    });
  }
}
