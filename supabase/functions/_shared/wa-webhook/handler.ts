import type { Logger } from "../log/logger.ts";
import { jsonBody, readRawBody } from "../http/body.ts";
import { badRequest, forbidden, methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { timingSafeEqualString, verifyHexSha256 } from "../http/signature.ts";
import { parseWhatsAppWebhook, type WebhookEvent } from "./parse-webhook.ts";
import { keepSigned, resolveWebhookAccounts, type WhatsAppAccounts } from "./resolve-account.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import { recordWhatsAppEvents } from "./record-events.ts";
import { type FollowUpDeps, scheduleFollowUps } from "./follow-ups.ts";
import { archiveWebhook, replayHeaders } from "../archive/archive-webhook.ts";

export interface WaWebhookDeps extends FollowUpDeps {
  /**
   * Each number's account, tenant and app secret (tenants/accounts.ts; WHATSAPP_APP_SECRET for
   * the env-configured number). An account without an app secret refuses every POST (fail closed).
   */
  accounts: WhatsAppAccounts;
  /** WHATSAPP_VERIFY_TOKEN: without it every verification is refused. */
  verifyToken?: string;
}

/** Meta's challenge is a number; anything long is not one and is not echoed back. */
const MAX_CHALLENGE = 256;

/**
 * `GET /wa-webhook` answers Meta's subscription check; `POST /wa-webhook` takes WhatsApp Cloud
 * API webhooks (messages, statuses, calls), signed with the app secret. The 200 means every
 * event in the batch is durably recorded; AI replies and post-call flows run after it.
 */
export function createWaWebhookHandler(deps: WaWebhookDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    const log = deps.logger.child({ correlation_id: correlationId });
    if (req.method === "GET") return verifySubscription(req, deps, log);
    if (req.method !== "POST") throw methodNotAllowed(["GET", "POST"]);

    const raw = await readRawBody(req);
    // The number (and so the app secret to check with) is read before the check; nothing the
    // body says is used or written until the signature holds. Parsed once for both.
    const body = jsonBody(raw);
    const accounts = await resolveWebhookAccounts(deps.accounts, body.peek);
    if (accounts.kind === "unknown") {
      // Acknowledged so Meta stops retrying: a number no tenant holds.
      log.warn("WHATSAPP_NUMBER_UNKNOWN", { phone_number_ids: accounts.phoneNumberIds });
      return json({ received: null });
    }
    const appSecret = accounts.signer.appSecret;
    if (!appSecret) {
      log.error("WHATSAPP_APP_SECRET_MISSING", { tenant_id: accounts.signer.tenantId });
      throw unauthorized("Webhook signatures cannot be checked");
    }
    const signature = req.headers.get("x-hub-signature-256");
    if (!(await verifyHexSha256(appSecret, signature, raw))) {
      log.warn("WHATSAPP_SIGNATURE_INVALID", { has_signature: signature !== null });
      throw unauthorized("Invalid X-Hub-Signature-256");
    }
    if (accounts.dropped.length > 0) {
      log.warn("WHATSAPP_NUMBER_DROPPED", { phone_number_ids: accounts.dropped });
    }
    // Kept for the operator (webhook_archive), written alongside the events in the same turn.
    const archived = archiveWebhook(deps.sql, {
      source: "wa-webhook",
      correlationId,
      contentType: req.headers.get("content-type"),
      headers: replayHeaders(req, "wa-webhook"),
      body: raw,
    });

    const parsed = parseWhatsAppWebhook(
      keepSigned(body.json(), accounts.dropped),
      correlationId,
    );
    if (!parsed.isWhatsApp) {
      log.info("WHATSAPP_WEBHOOK_IGNORED", { object: parsed.object });
      await archived;
      return json({ received: null });
    }
    const events = routed(parsed.events, accounts.byNumber);
    const [outcome] = await Promise.all([recordWhatsAppEvents(deps.sql, log, events), archived]);
    scheduleFollowUps(deps, outcome.followUps, log, correlationId);
    return json({ received: outcome.counts });
  });
}

/**
 * Messages to a number whose account routes to agents (`agent`) are owed no AI reply: they go to
 * the tenant's Genesys integration instead.
 */
function routed(
  events: WebhookEvent[],
  byNumber: Map<string | null, WhatsAppAccount>,
): WebhookEvent[] {
  const bridged = [...byNumber.values()].find((a) => a.routing !== "ai");
  return events.map((e) => {
    // Statuses of agents' messages are owed to Genesys as receipts (looked up after the answer).
    if (e.kind === "status") return bridged ? { ...e, agents: bridged } : e;
    if (e.kind !== "message") return e;
    const business = e.message.metadata?.business as { phone_number_id?: string } | undefined;
    const account = byNumber.get(business?.phone_number_id ?? null) ??
      byNumber.values().next().value;
    if (account?.routing !== "agent") return e;
    return { ...e, message: { ...e.message, needsReply: false }, agents: account };
  });
}

function verifySubscription(req: Request, deps: WaWebhookDeps, log: Logger): Response {
  const q = new URL(req.url).searchParams;
  const token = q.get("hub.verify_token");
  const ok = Boolean(deps.verifyToken) && q.get("hub.mode") === "subscribe" && token !== null &&
    timingSafeEqualString(token, deps.verifyToken!);
  if (!ok) {
    log.warn("WHATSAPP_WEBHOOK_VERIFY_REJECTED", { configured: Boolean(deps.verifyToken) });
    throw forbidden("Webhook verification failed");
  }
  const challenge = q.get("hub.challenge");
  if (!challenge || challenge.length > MAX_CHALLENGE) {
    throw badRequest("VALIDATION.INVALID_CHALLENGE", "hub.challenge is required", {
      field: "hub.challenge",
    });
  }
  log.info("WHATSAPP_WEBHOOK_VERIFIED");
  return new Response(challenge, {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}
