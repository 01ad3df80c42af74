import { json } from "./http.ts";

/** Only a name that means this machine, as the console checks: a DNS-rebinding page is refused. */
const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/**
 * The sandbox holds the providers' side of every conversation and can post signed webhooks, so
 * no web page may drive it: the Host must name this machine (DNS rebinding), and a browser's
 * request (it sends `Origin`) must come from a page on this machine. Tools, tests and the
 * functions send no Origin. Null when the request may go on, else the 403 to answer.
 */
export function refuseForeign(req: Request): Response | null {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  if (!LOCAL_HOST.test(host)) {
    return json({ error: "the sandbox answers only at http://127.0.0.1 (Host not local)" }, 403);
  }
  const origin = req.headers.get("origin");
  if (origin !== null && !isLocalOrigin(origin)) {
    return json(
      { error: `requests from ${origin} are refused: the sandbox is for this machine` },
      403,
    );
  }
  return null;
}

function isLocalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && LOCAL_HOST.test(url.host);
  } catch {
    return false; // "null" (a sandboxed frame, a file) or garbage
  }
}

/**
 * The control API reads JSON only when it says it is JSON: a `text/plain` post is a "simple"
 * cross-origin request a page can send without a CORS preflight.
 */
export function refuseNonJson(req: Request): Response | null {
  const type = req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (type === "application/json") return null;
  return json({ error: "send Content-Type: application/json" }, 415);
}
