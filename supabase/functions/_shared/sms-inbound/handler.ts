import { readRawBody } from "../http/body.ts";
import { methodNotAllowed, unauthorized } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { verifyHexSha256 } from "../http/signature.ts";
import { archiveWebhook, replayHeaders } from "../archive/archive-webhook.ts";
import type { Logger } from "../log/logger.ts";
import { applySmsStatus } from "./apply-sms-status.ts";
import { handleInboundSms, type InboundSmsDeps } from "./handle-inbound-sms.ts";
import { parseMtnInbound, parseMtnReceipt } from "./mtn.ts";
import { providerOf, routeOf, type SmsRoute } from "./route.ts";
import { parseForm, parseTwilioInbound, parseTwilioStatus } from "./twilio.ts";
import { verifyTwilioSignature } from "./twilio-signature.ts";
import { twiml } from "./twiml.ts";

export interface SmsInboundDeps extends InboundSmsDeps {
  /** Unset secrets fail closed: that provider's requests are all 401. */
  webhook: {
    mtnSecret?: string;
    twilioAuthToken?: string;
    /** The public base URL of the functions (`https://<ref>.supabase.co/functions/v1`). */
    publicFunctionsUrl?: string;
  };
}

interface Ctx {
  deps: SmsInboundDeps;
  req: Request;
  route: SmsRoute;
  correlationId: string;
  log: Logger;
}

/**
 * `POST /sms-inbound[/mtn|/twilio]` (inbound SMS) and `POST /sms-inbound/status[/mtn|/twilio]`
 * (delivery callbacks). Public (verify_jwt = false): each request is authenticated by its
 * provider's signature over the exact bytes received, and answered only after it is recorded.
 */
export function createSmsInboundHandler(deps: SmsInboundDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    const route = routeOf(new URL(req.url).pathname);
    const provider = route.provider ?? providerOf(req.headers);
    if (!provider) throw unauthorized("Missing X-MTN-Signature or X-Twilio-Signature");
    const log = deps.logger.child({
      correlation_id: correlationId,
      provider,
      endpoint: route.kind,
    });
    const ctx = { deps, req, route, correlationId, log };
    return provider === "mtn" ? await fromMtn(ctx) : await fromTwilio(ctx);
  });
}

async function fromMtn({ deps, req, route, correlationId, log }: Ctx): Promise<Response> {
  const secret = deps.webhook.mtnSecret;
  if (!secret) throw notConfigured(log, ["MTN_WEBHOOK_SECRET"]);
  const raw = await readRawBody(req);
  const signature = req.headers.get("x-mtn-signature");
  if (!(await verifyHexSha256(secret, signature, raw, { prefixOptional: true }))) {
    throw invalidSignature(log, signature);
  }
  const archived = archiveSms(deps, req, correlationId, raw);
  if (route.kind === "status") {
    const [status] = await Promise.all([
      applySmsStatus(deps, parseMtnReceipt(raw), correlationId),
      archived,
    ]);
    return json(status);
  }
  const [outcome] = await Promise.all([
    handleInboundSms(deps, await parseMtnInbound(raw), { correlationId, replyInline: false }),
    archived,
  ]);
  return json({ result: outcome.result, ...(outcome.keyword ? { keyword: outcome.keyword } : {}) });
}

async function fromTwilio({ deps, req, route, correlationId, log }: Ctx): Promise<Response> {
  const { twilioAuthToken: token, publicFunctionsUrl: base } = deps.webhook;
  if (!token || !base) {
    throw notConfigured(log, [
      ...(token ? [] : ["TWILIO_AUTH_TOKEN"]),
      ...(base ? [] : ["PUBLIC_FUNCTIONS_URL"]),
    ]);
  }
  const signature = req.headers.get("x-twilio-signature");
  if (!signature) throw invalidSignature(log, signature);
  const raw = await readRawBody(req);
  // The signature covers the parameters, so they are read first, but an unsigned request learns
  // nothing from them: a form that is not even UTF-8 cannot carry Twilio's signature (Twilio
  // sends UTF-8), so it is a 401 like any other bad signature, never a 400 about its content.
  const params = formOrNull(raw);
  // Twilio signs the URL it was configured with: the public one, not the one this runtime sees.
  const signedUrl = base.replace(/\/+$/, "") + route.signedPath + new URL(req.url).search;
  if (!params || !(await verifyTwilioSignature(token, signature, signedUrl, params))) {
    throw invalidSignature(log, signature);
  }
  const archived = archiveSms(deps, req, correlationId, raw);
  if (route.kind === "status") {
    const deliveryId = new URL(req.url).searchParams.get("delivery_id");
    await Promise.all([
      applySmsStatus(deps, parseTwilioStatus(params, deliveryId), correlationId),
      archived,
    ]);
    return twiml();
  }
  const [outcome] = await Promise.all([
    handleInboundSms(deps, parseTwilioInbound(params), { correlationId, replyInline: true }),
    archived,
  ]);
  return twiml(outcome.inlineReply);
}

/** The signed body, kept with the path and query it came to (webhook_archive). */
function archiveSms(deps: SmsInboundDeps, req: Request, correlationId: string, raw: Uint8Array) {
  const url = new URL(req.url);
  return archiveWebhook(deps.sql, {
    source: "sms-inbound",
    correlationId,
    contentType: req.headers.get("content-type"),
    headers: { ...replayHeaders(req, "sms-inbound"), ...(url.search ? { query: url.search } : {}) },
    body: raw,
  });
}

function formOrNull(raw: Uint8Array) {
  try {
    return parseForm(raw);
  } catch {
    return null;
  }
}

function notConfigured(log: Logger, missing: string[]) {
  log.error("SMS_WEBHOOK_NOT_CONFIGURED", { missing });
  return unauthorized("Webhook signature secret is not configured");
}

function invalidSignature(log: Logger, signature: string | null) {
  log.warn("SMS_WEBHOOK_SIGNATURE_INVALID", { signature_present: signature !== null });
  return unauthorized("Invalid signature");
}
