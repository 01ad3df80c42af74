import type { Logger } from "../log/logger.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, forbidden, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { timingSafeEqualString, verifyHexSha256 } from "../http/signature.ts";
import { archiveWebhook } from "../archive/archive-webhook.ts";
import { parseMetaWebhook } from "./parse-webhook.ts";
import { recordMetaEvents } from "./record-events.ts";
import { type MetaFollowUpDeps, scheduleMetaFollowUps } from "./follow-ups.ts";

export interface MetaWebhookDeps extends MetaFollowUpDeps {
  logger: Logger;
  /** META_APP_SECRET: without it every POST is refused (fail closed). */
  appSecret?: string;
  /** META_VERIFY_TOKEN: without it every verification is refused. */
  verifyToken?: string;
}

/** Meta's challenge is a number; anything long is not one and is not echoed back. */
const MAX_CHALLENGE = 256;

/**
 * `GET /meta-webhook` answers Meta's subscription check; `POST /meta-webhook` takes the app's
 * Messenger (`object: "page"`) and Instagram (`object: "instagram"`) webhooks, signed with the
 * app secret. The 200 means every event is durably recorded; sender actions, AI replies and
 * profile lookups run after it.
 */
export function createMetaWebhookHandler(deps: MetaWebhookDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    const log = deps.logger.child({ correlation_id: correlationId });
    if (req.method === "GET") return verifySubscription(req, deps, log);
    if (req.method !== "POST") throw methodNotAllowed(["GET", "POST"]);

    if (!deps.appSecret) {
      log.error("META_APP_SECRET_MISSING");
      throw unauthorized("Webhook signatures cannot be checked");
    }
    const raw = await readRawBody(req);
    const signature = req.headers.get("x-hub-signature-256");
    if (!(await verifyHexSha256(deps.appSecret, signature, raw))) {
      log.warn("META_SIGNATURE_INVALID", { has_signature: signature !== null });
      throw unauthorized("Invalid X-Hub-Signature-256");
    }
    const archived = archiveWebhook(deps.sql, {
      source: "meta-webhook",
      correlationId,
      contentType: req.headers.get("content-type"),
      body: raw,
    });

    const parsed = parseMetaWebhook(parseJson(raw), correlationId);
    if (!parsed.isMeta) {
      log.info("META_WEBHOOK_IGNORED", { object: parsed.object });
      await archived;
      return json({ received: null });
    }
    const [outcome] = await Promise.all([
      recordMetaEvents(deps.sql, log, parsed.events),
      archived,
    ]);
    scheduleMetaFollowUps(deps, outcome.followUps, log);
    return json({ received: outcome.counts });
  });
}

function verifySubscription(req: Request, deps: MetaWebhookDeps, log: Logger): Response {
  const q = new URL(req.url).searchParams;
  const token = q.get("hub.verify_token");
  const ok = Boolean(deps.verifyToken) && q.get("hub.mode") === "subscribe" && token !== null &&
    timingSafeEqualString(token, deps.verifyToken!);
  if (!ok) {
    log.warn("META_WEBHOOK_VERIFY_REJECTED", { configured: Boolean(deps.verifyToken) });
    throw forbidden("Webhook verification failed");
  }
  const challenge = q.get("hub.challenge");
  if (!challenge || challenge.length > MAX_CHALLENGE) {
    throw badRequest("VALIDATION.INVALID_CHALLENGE", "hub.challenge is required", {
      field: "hub.challenge",
    });
  }
  log.info("META_WEBHOOK_VERIFIED");
  return new Response(challenge, {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}
