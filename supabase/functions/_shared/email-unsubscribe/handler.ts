import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import { readRawBody } from "../http/body.ts";
import { HttpError, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { withErrors } from "../http/respond.ts";
import type { Logger } from "../log/logger.ts";
import { readUnsubscribeToken } from "../email/unsubscribe.ts";
import { pgSafeText } from "../text/pg-safe.ts";

export interface EmailUnsubscribeDeps {
  sql: Sql;
  logger: Logger;
  /** EMAIL_UNSUBSCRIBE_SECRET; unset: every request is 401. */
  secret?: string;
}

/**
 * `/email-unsubscribe?token=…`, the List-Unsubscribe target of marketing email. Public
 * (verify_jwt = false): the token is the authentication. `POST` (the mail client's RFC 8058
 * one-click `List-Unsubscribe=One-Click`, or the page's button) opts the person out of email;
 * `GET` only shows that button, because link scanners fetch every URL in an email.
 */
export function createEmailUnsubscribeHandler(deps: EmailUnsubscribeDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "GET" && req.method !== "POST") throw methodNotAllowed(["GET", "POST"]);
    const log = deps.logger.child({ correlation_id: correlationId });
    if (!deps.secret) {
      log.error("EMAIL_UNSUBSCRIBE_NOT_CONFIGURED", { missing: ["EMAIL_UNSUBSCRIBE_SECRET"] });
      throw unauthorized("Unsubscribe links are not configured");
    }
    const token = new URL(req.url).searchParams.get("token");
    const address = await readUnsubscribeToken(deps.secret, token);
    // An address Postgres cannot hold (NUL, a lone surrogate) is no one's: we never signed it
    // for a person, and cleaning it would unsubscribe someone else.
    if (!address || pgSafeText(address) !== address) {
      log.warn("EMAIL_UNSUBSCRIBE_REFUSED", { token_present: token !== null });
      throw new HttpError(403, "EMAIL.UNSUBSCRIBE_INVALID", "This unsubscribe link is not valid");
    }
    if (req.method === "GET") return page(confirmForm(token!));
    await readRawBody(req, 4096);
    await rpcValue(deps.sql, "set_email_preference", { p_address: address, p_allowed: false });
    log.info("EMAIL_UNSUBSCRIBED");
    return page("<p>You are unsubscribed: we will not email you again.</p>");
  });
}

const confirmForm = (token: string) =>
  `<form method="post" action="?token=${encodeURIComponent(token)}">` +
  `<input type="hidden" name="List-Unsubscribe" value="One-Click">` +
  `<p>Stop all email from us?</p><button type="submit">Unsubscribe</button></form>`;

function page(body: string): Response {
  return new Response(
    `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title>${body}`,
    {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; form-action 'self'",
        "cache-control": "no-store",
      },
    },
  );
}
