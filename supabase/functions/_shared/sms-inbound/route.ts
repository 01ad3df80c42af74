import { HttpError } from "../http/errors.ts";
import type { SmsProvider } from "./types.ts";

/** What a request to sms-inbound is: an inbound message or a delivery callback, and from whom. */
export interface SmsRoute {
  kind: "inbound" | "status";
  /** Named by the path (`/sms-inbound/twilio`); otherwise told apart by headers. */
  provider?: SmsProvider;
  /** The path from `/sms-inbound` on, as Twilio signs it (the public URL's own prefix differs). */
  signedPath: string;
}

const FUNCTION = /\/sms-inbound(?=\/|$)/;
const PROVIDERS: readonly string[] = ["mtn", "twilio"];

/**
 * `/sms-inbound`, `/sms-inbound/mtn`, `/sms-inbound/twilio`, `/sms-inbound/status`,
 * `/sms-inbound/status/mtn`, `/sms-inbound/status/twilio`; anything else is 404.
 */
export function routeOf(pathname: string): SmsRoute {
  const at = pathname.search(FUNCTION);
  const signedPath = at >= 0 ? pathname.slice(at) : pathname;
  const rest = signedPath.replace(FUNCTION, "").split("/").filter(Boolean);
  const kind = rest[0] === "status" ? "status" : "inbound";
  const named = kind === "status" ? rest.slice(1) : rest;
  if (named.length > 1 || (named.length === 1 && !PROVIDERS.includes(named[0]))) {
    throw new HttpError(404, "HTTP.NOT_FOUND", "No such sms-inbound endpoint");
  }
  return { kind, provider: named[0] as SmsProvider | undefined, signedPath };
}

/**
 * The provider of a request on a path that does not name one: by its signature header, then by
 * its content type (Twilio posts forms, the MTN-style gateway JSON). Null when neither tells.
 */
export function providerOf(headers: Headers): SmsProvider | null {
  if (headers.has("x-twilio-signature")) return "twilio";
  if (headers.has("x-mtn-signature")) return "mtn";
  const type = headers.get("content-type")?.toLowerCase() ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) return "twilio";
  if (type.includes("json")) return "mtn";
  return null;
}
