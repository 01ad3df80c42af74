import { z } from "zod";
import {
  assertBaseUrl,
  classOfStatus,
  DEFAULT_TIMEOUT_MS,
  exchange,
  httpFailure,
  invalidRecipient,
  joinUrl,
  missingFields,
  notConfigured,
  type ProviderReply,
  safeMessage,
  unreadableSuccess,
  withRetryAfter,
} from "./http.ts";
import { e164Digits } from "../phone.ts";
import type {
  AdapterOptions,
  ChannelFailure,
  ErrorClass,
  SendResult,
  SmsAdapter,
  SmsSendOptions,
} from "../outbound/adapter.ts";

/** Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form, Basic. */

export interface TwilioSmsConfig {
  baseUrl: string;
  accountSid?: string;
  authToken?: string;
  /** A phone number in E.164, or a Messaging Service SID (MG…). */
  from?: string;
  /**
   * Our status webhook (`<PUBLIC_FUNCTIONS_URL>/sms-inbound/status/twilio`). Each send's
   * StatusCallback is this URL with `?delivery_id=<row id>`, which Twilio calls back verbatim.
   */
  statusCallbackUrl?: string;
}

/** The StatusCallback URL for one row: Twilio echoes the query, so the row is known by id. */
export function statusCallbackFor(
  base: string | undefined,
  deliveryId: string | undefined,
): string | undefined {
  if (!base || !deliveryId) return undefined;
  const url = new URL(base);
  url.searchParams.set("delivery_id", deliveryId);
  return url.toString();
}

/** Where Twilio posts statuses for this stack, when its public URL is known. */
export function twilioStatusCallbackUrl(
  publicFunctionsUrl: string | undefined,
): string | undefined {
  return publicFunctionsUrl
    ? `${publicFunctionsUrl.replace(/\/+$/, "")}/sms-inbound/status/twilio`
    : undefined;
}

const PROVIDER = "twilio";

const SuccessBody = z.object({ sid: z.string().min(1), status: z.string() });
const ErrorBody = z.object({
  code: z.number().int(),
  message: z.string(),
  more_info: z.string().optional(),
  status: z.number().int().optional(),
});

/** 20429 too many requests, 20500 internal error, 20503 service unavailable. */
const RETRYABLE = new Set([20429, 20500, 20503]);

/**
 * Delivery errors a status callback reports (`ErrorCode` with `undelivered` / `failed`): 30001
 * queue overflow, 30003 unreachable handset, 30008 unknown error, 30017 carrier congestion and
 * 30022 rate limit exceeded may pass later; the rest (30004 blocked, 30005 unknown number, 30006
 * landline, 30007 filtered, …) fail the same way again.
 */
const RETRYABLE_DELIVERY = new Set(["30001", "30003", "30008", "30017", "30022"]);

export function classifyTwilioDeliveryError(code: string | undefined): ErrorClass {
  return code !== undefined && RETRYABLE_DELIVERY.has(code) ? "retryable" : "permanent";
}

export function createTwilioSmsAdapter(
  config: TwilioSmsConfig,
  opts: AdapterOptions = {},
): SmsAdapter {
  assertBaseUrl("Twilio base URL", config.baseUrl);
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function send(to: string, body: string, options: SmsSendOptions = {}): Promise<SendResult> {
    const missing = missingFields({
      accountSid: config.accountSid,
      authToken: config.authToken,
      from: config.from,
    });
    if (missing.length) return failed(notConfigured(missing));
    const digits = e164Digits(to);
    if (!digits) return failed(invalidRecipient());

    const form = new URLSearchParams({ To: `+${digits}` });
    // A Messaging Service picks the sender itself (and handles opt-outs per service).
    form.set(config.from!.startsWith("MG") ? "MessagingServiceSid" : "From", config.from!);
    form.set("Body", body);
    // MMS: Twilio fetches the file from the URL (US/Canada numbers; elsewhere it sends a link).
    if (options.mediaUrl) form.set("MediaUrl", options.mediaUrl);
    const callback = options.statusCallbackUrl ??
      statusCallbackFor(config.statusCallbackUrl, options.deliveryId);
    if (callback) form.set("StatusCallback", callback);

    const sid = encodeURIComponent(config.accountSid!);
    const result = await exchange(
      fetchFn,
      joinUrl(config.baseUrl, `/2010-04-01/Accounts/${sid}/Messages.json`),
      {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${config.accountSid}:${config.authToken}`)}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form,
      },
      timeoutMs,
    );
    if (!result.ok) return failed(result.failure);
    return readReply(result.reply);
  }

  return { provider: PROVIDER, send };
}

function readReply(reply: ProviderReply): SendResult {
  if (reply.status >= 200 && reply.status < 300) {
    const ok = SuccessBody.safeParse(reply.json);
    if (!ok.success) return failed(unreadableSuccess(reply));
    return { ok: true, provider: PROVIDER, providerMessageId: ok.data.sid };
  }
  const err = ErrorBody.safeParse(reply.json);
  if (!err.success) return failed(httpFailure(reply));
  return failed(withRetryAfter(reply, {
    class: RETRYABLE.has(err.data.code) ? "retryable" : classOfStatus(reply.status),
    code: String(err.data.code),
    message: safeMessage(err.data.message),
    httpStatus: reply.status,
  }));
}

const failed = (error: ChannelFailure): SendResult => ({ ok: false, provider: PROVIDER, error });
