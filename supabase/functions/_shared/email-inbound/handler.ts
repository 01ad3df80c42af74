import { readRawBody } from "../http/body.ts";
import { archiveWebhook, replayHeaders } from "../archive/archive-webhook.ts";
import { HttpError, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { rpcValue } from "../db/rpc.ts";
import { pgSafe } from "../text/pg-safe.ts";
import type { Logger } from "../log/logger.ts";
import { applyDeliveryEvent } from "./apply-delivery.ts";
import { parseResendEvent } from "./events.ts";
import { handleReceivedEmail, type ReceivedEmailDeps } from "./handle-received.ts";
import { createResendVerifier, type ResendVerifier } from "./verify.ts";

export interface EmailInboundDeps extends ReceivedEmailDeps {
  /** `whsec_…`; unset (or not a Standard Webhooks secret) fails closed: every request is 401. */
  webhookSecret?: string;
}

const SOURCE = "resend";

/**
 * `POST /email-inbound`: Resend's webhooks. Public (verify_jwt = false): each request must carry
 * a valid Standard Webhooks signature over the exact bytes received, at most 5 minutes old, with
 * an id not handled before; anything else is refused with nothing written. Inbound email and
 * delivery events are recorded before the 2xx; the AI reply runs after it.
 */
export function createEmailInboundHandler(deps: EmailInboundDeps) {
  const verify = verifierOf(deps.webhookSecret, deps.logger);
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    const log = deps.logger.child({ correlation_id: correlationId });
    if (!verify) {
      log.error("EMAIL_WEBHOOK_NOT_CONFIGURED", { missing: ["RESEND_WEBHOOK_SECRET"] });
      throw unauthorized("Webhook signature secret is not configured");
    }
    const bytes = await readRawBody(req);
    const raw = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
    const verified = verify(raw, req.headers);
    if (!verified.ok) {
      log.warn("EMAIL_WEBHOOK_REFUSED", { reason: verified.reason });
      throw unauthorized(
        verified.reason === "stale"
          ? "Webhook timestamp outside the tolerance"
          : "Invalid signature",
      );
    }
    const archived = archiveWebhook(deps.sql, {
      source: "email-inbound",
      correlationId,
      contentType: req.headers.get("content-type"),
      headers: replayHeaders(req, "email-inbound"),
      body: bytes,
    });
    const event = parseResendEvent(parseJson(raw));
    const [claimed] = await Promise.all([
      rpcValue(deps.sql, "claim_webhook_event", { p_source: SOURCE, p_event_id: verified.id }),
      archived,
    ]);
    if (!claimed) {
      log.warn("EMAIL_WEBHOOK_REFUSED", { reason: "replayed", webhook_id: verified.id });
      throw new HttpError(
        409,
        "EMAIL.WEBHOOK_REPLAYED",
        "This webhook message was already handled",
      );
    }
    try {
      if (event.kind === "received") {
        return json({ result: await handleReceivedEmail(deps, event.event, correlationId) });
      }
      if (event.kind === "delivery") {
        return json({ result: await applyDeliveryEvent(deps, event.event, correlationId) });
      }
      log.info("EMAIL_WEBHOOK_IGNORED", { type: event.type });
      return json({ result: "ignored" });
    } catch (err) {
      // Not handled: Resend's own retry of this message must get through.
      await rpcValue(deps.sql, "release_webhook_event", {
        p_source: SOURCE,
        p_event_id: verified.id,
      })
        .catch(() => {});
      throw err;
    }
  });
}

function verifierOf(secret: string | undefined, logger: Logger): ResendVerifier | null {
  if (!secret) return null;
  try {
    return createResendVerifier(secret);
  } catch {
    logger.error("EMAIL_WEBHOOK_SECRET_INVALID", { expected: "whsec_ followed by base64" });
    return null;
  }
}

/** The event, with NUL and lone surrogates made storable (pgSafe) once its signature checked out. */
function parseJson(raw: string): unknown {
  try {
    return pgSafe(JSON.parse(raw));
  } catch {
    throw new HttpError(400, "VALIDATION.INVALID_JSON", "The body is not JSON");
  }
}
