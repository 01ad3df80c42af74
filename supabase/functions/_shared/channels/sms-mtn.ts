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
  SendResult,
  SmsAdapter,
  SmsSendOptions,
} from "../outbound/adapter.ts";

/**
 * An MTN-style SMS gateway, modelled on MTN's SMS v3 API: an OAuth client-credentials token,
 * then `POST /v3/sms/messages/sms/outbound` with the token as Bearer.
 */

export interface MtnSmsConfig {
  baseUrl?: string;
  apiKey?: string;
  apiSecret?: string;
  senderId?: string;
}

export interface MtnAdapterOptions extends AdapterOptions {
  /** Clock for token expiry, in ms since the epoch. */
  now?: () => number;
}

const PROVIDER = "mtn";
const SUCCESS_CODE = "0000";
/** Refresh this long before the token's stated expiry (at most a tenth of its lifetime). */
const EXPIRY_MARGIN_MS = 60_000;

const Code = z.union([z.string(), z.number()]).transform(String);

const TokenBody = z.object({
  access_token: z.string().min(1),
  // MTN's gateway sends expires_in as a string ("3599").
  expires_in: z.coerce.number().positive(),
});

const SendBody = z.object({
  statusCode: Code,
  statusMessage: z.string().optional(),
  transactionId: z.string().optional(),
  data: z.object({ requestId: z.string().optional() }).loose().nullish(),
});

/**
 * MTN's own error shape, the OAuth one its token endpoint may use, or the API gateway's fault
 * (what an expired or revoked token gets).
 */
const ErrorBody = z.union([
  z.object({ statusCode: Code, statusMessage: z.string().optional() })
    .transform((b) => ({ code: b.statusCode, message: b.statusMessage })),
  z.object({ error: z.string(), error_description: z.string().optional() })
    .transform((b) => ({ code: b.error, message: b.error_description })),
  z.object({
    fault: z.object({
      faultstring: z.string(),
      detail: z.object({ errorcode: z.string() }).optional(),
    }),
  }).transform((b) => ({
    code: b.fault.detail?.errorcode ?? "FAULT",
    message: b.fault.faultstring,
  })),
]);

interface CachedToken {
  token: string;
  expiresAt: number;
}

export function createMtnSmsAdapter(
  config: MtnSmsConfig,
  opts: MtnAdapterOptions = {},
): SmsAdapter {
  assertBaseUrl("MTN SMS base URL", config.baseUrl);
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  let cached: CachedToken | undefined;
  // Concurrent sends on a cold cache share one token request instead of stampeding.
  let pending: Promise<CachedToken | ChannelFailure> | undefined;

  async function requestToken(): Promise<CachedToken | ChannelFailure> {
    const url = joinUrl(config.baseUrl!, "/v1/oauth/access_token");
    url.searchParams.set("grant_type", "client_credentials");
    const result = await exchange(fetchFn, url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ client_id: config.apiKey!, client_secret: config.apiSecret! }),
    }, timeoutMs);
    if (!result.ok) return result.failure;
    const { reply } = result;
    if (reply.status >= 200 && reply.status < 300) {
      const body = TokenBody.safeParse(reply.json);
      if (!body.success) {
        return {
          ...unreadableSuccess(reply),
          class: "retryable",
          message: "Unreadable token answer",
        };
      }
      const lifetime = body.data.expires_in * 1000;
      return {
        token: body.data.access_token,
        expiresAt: now() + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 10),
      };
    }
    const failure = errorFailure(reply);
    return { ...failure, message: `Token request refused: ${failure.message}` };
  }

  function token(): Promise<CachedToken | ChannelFailure> {
    if (cached && cached.expiresAt > now()) return Promise.resolve(cached);
    pending ??= requestToken().then((t) => {
      pending = undefined;
      if ("token" in t) cached = t;
      return t;
    });
    return pending;
  }

  async function post(bearer: string, payload: unknown) {
    return await exchange(fetchFn, joinUrl(config.baseUrl!, "/v3/sms/messages/sms/outbound"), {
      method: "POST",
      headers: {
        authorization: `Bearer ${bearer}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify(payload),
    }, timeoutMs);
  }

  async function send(to: string, body: string, options: SmsSendOptions = {}): Promise<SendResult> {
    const missing = missingFields({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
      senderId: config.senderId,
    });
    if (missing.length) return failed(notConfigured(missing));
    const msisdn = e164Digits(to);
    if (!msisdn) return failed(invalidRecipient());
    const payload = {
      senderAddress: config.senderId,
      receiverAddress: [msisdn],
      message: body,
      clientCorrelatorId: options.deliveryId ?? options.correlationId ?? crypto.randomUUID(),
      requestDeliveryReceipt: true,
    };

    let auth = await token();
    if (!("token" in auth)) return failed(auth);
    let result = await post(auth.token, payload);
    // A token revoked before its stated expiry: drop it and try once more with a fresh one.
    if (result.ok && result.reply.status === 401) {
      if (cached?.token === auth.token) cached = undefined;
      auth = await token();
      if (!("token" in auth)) return failed(auth);
      result = await post(auth.token, payload);
    }
    if (!result.ok) return failed(result.failure);
    return readReply(result.reply);
  }

  return { provider: PROVIDER, send };
}

function readReply(reply: ProviderReply): SendResult {
  const body = SendBody.safeParse(reply.json);
  if (reply.status >= 200 && reply.status < 300) {
    if (!body.success) return failed(unreadableSuccess(reply));
    const id = body.data.data?.requestId ?? body.data.transactionId;
    if (body.data.statusCode === SUCCESS_CODE && id) {
      return { ok: true, provider: PROVIDER, providerMessageId: id };
    }
    if (body.data.statusCode === SUCCESS_CODE) return failed(unreadableSuccess(reply));
    // A 2xx that carries a failure code: the gateway did not take the message.
    return failed({
      class: "permanent",
      code: body.data.statusCode,
      message: safeMessage(body.data.statusMessage ?? "Rejected by the gateway"),
      httpStatus: reply.status,
    });
  }
  return failed(errorFailure(reply));
}

function errorFailure(reply: ProviderReply): ChannelFailure {
  const err = ErrorBody.safeParse(reply.json);
  if (!err.success) return httpFailure(reply);
  return withRetryAfter(reply, {
    class: classOfStatus(reply.status),
    code: err.data.code,
    message: safeMessage(err.data.message ?? `HTTP ${reply.status}`),
    httpStatus: reply.status,
  });
}

const failed = (error: ChannelFailure): SendResult => ({ ok: false, provider: PROVIDER, error });
