import { z } from "zod";
import {
  assertBaseUrl,
  classOfStatus,
  DEFAULT_TIMEOUT_MS,
  exchange,
  httpFailure,
  joinUrl,
  missingFields,
  notConfigured,
  type ProviderReply,
  safeMessage,
  unreadableSuccess,
  withRetryAfter,
} from "./http.ts";
import type {
  AdapterOptions,
  ChannelFailure,
  EmailAdapter,
  EmailMessage,
  ReceivedEmail,
  SendResult,
} from "../outbound/adapter.ts";

/**
 * Resend's HTTP API: `POST /emails`, `POST /emails/batch` (up to 100), `GET
 * /emails/receiving/{id}`, Bearer API key. Plain fetch through the shared transport rather than
 * the `resend` SDK: the SDK answers `{ data, error }` without the HTTP status or `Retry-After`,
 * takes no per-request deadline and no injected fetch, so the timeout, the failure classes and
 * the pacer's slow-down (all read from the raw answer) would be lost behind it.
 */

export interface ResendConfig {
  baseUrl: string;
  apiKey?: string;
  /** `Name <address@domain>` or a bare address on a verified domain. */
  from?: string;
}

const PROVIDER = "resend";
export const RESEND_MAX_BATCH = 100;

const Address = z.email();

const SuccessBody = z.object({ id: z.string().min(1) });
const BatchBody = z.object({
  data: z.array(z.object({ id: z.string().min(1) })),
  errors: z.array(z.object({ index: z.number().int(), message: z.string() })).optional(),
});
const ErrorBody = z.object({
  name: z.string(),
  message: z.string(),
  statusCode: z.number().int().optional(),
});
const ReceivedBody = z.object({
  id: z.string().min(1),
  from: z.string(),
  to: z.array(z.string()).default([]),
  subject: z.string().nullish(),
  text: z.string().nullish(),
  html: z.string().nullish(),
  message_id: z.string().nullish(),
  headers: z.record(z.string(), z.unknown()).nullish(),
  attachments: z.array(
    z.object({ filename: z.string().nullish(), content_type: z.string().nullish() }).loose(),
  ).nullish(),
}).loose();

/**
 * Resend's error names that may pass on a later try: its rate and daily limits, a request with
 * the same idempotency key still in flight, and its own failures. Everything else (validation,
 * an unverified `from`, a bad key, the same idempotency key with another payload) fails the
 * same way again.
 */
const RETRYABLE = new Set([
  "rate_limit_exceeded",
  "daily_quota_exceeded",
  "concurrent_idempotent_requests",
  "application_error",
  "internal_server_error",
]);

export function createResendAdapter(config: ResendConfig, opts: AdapterOptions = {}): EmailAdapter {
  assertBaseUrl("Resend base URL", config.baseUrl);
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const missing = () => missingFields({ apiKey: config.apiKey, from: config.from });
  const headers = (idempotencyKey?: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${config.apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
    ...(idempotencyKey ? { "idempotency-key": idempotencyKey.slice(0, 256) } : {}),
    ...extra,
  });

  async function send(message: EmailMessage): Promise<SendResult> {
    const absent = missing();
    if (absent.length) return failed(notConfigured(absent));
    if (!Address.safeParse(message.to).success) return failed(invalidAddress());
    const result = await exchange(fetchFn, joinUrl(config.baseUrl, "/emails"), {
      method: "POST",
      headers: headers(message.idempotencyKey),
      body: JSON.stringify(wire(config.from!, message, true)),
    }, timeoutMs);
    if (!result.ok) return failed(result.failure);
    return readReply(result.reply);
  }

  async function sendBatch(messages: EmailMessage[], key?: string): Promise<SendResult[]> {
    if (messages.length > RESEND_MAX_BATCH) {
      throw new RangeError(`A batch holds at most ${RESEND_MAX_BATCH} emails`);
    }
    const absent = missing();
    if (absent.length) return messages.map(() => failed(notConfigured(absent)));
    // An address that is not one fails alone, before the call; the rest still go.
    const valid = messages.map((m) => Address.safeParse(m.to).success);
    const sendable = messages.filter((_, i) => valid[i]);
    const results: SendResult[] = messages.map(() => failed(invalidAddress()));
    if (sendable.length === 0) return results;
    const result = await exchange(fetchFn, joinUrl(config.baseUrl, "/emails/batch"), {
      method: "POST",
      // Permissive: one email Resend refuses does not hold back the other 99.
      headers: headers(key, { "x-batch-validation": "permissive" }),
      // The batch endpoint takes no attachments; a row with some is sent alone (sender.ts).
      body: JSON.stringify(sendable.map((m) => wire(config.from!, m, false))),
    }, timeoutMs);
    const answers = result.ok
      ? readBatchReply(result.reply, sendable.length)
      : sendable.map(() => failed(result.failure));
    let next = 0;
    valid.forEach((ok, i) => {
      if (ok) results[i] = answers[next++];
    });
    return results;
  }

  async function fetchReceived(id: string) {
    const absent = missingFields({ apiKey: config.apiKey });
    if (absent.length) return { ok: false as const, error: notConfigured(absent) };
    const result = await exchange(
      fetchFn,
      joinUrl(config.baseUrl, `/emails/receiving/${encodeURIComponent(id)}`),
      { method: "GET", headers: headers() },
      timeoutMs,
    );
    if (!result.ok) return { ok: false as const, error: result.failure };
    const { reply } = result;
    if (reply.status < 200 || reply.status >= 300) {
      return { ok: false as const, error: errorOf(reply) };
    }
    const body = ReceivedBody.safeParse(reply.json);
    if (!body.success) return { ok: false as const, error: unreadableSuccess(reply) };
    return { ok: true as const, email: receivedOf(body.data) };
  }

  return { provider: PROVIDER, maxBatch: RESEND_MAX_BATCH, send, sendBatch, fetchReceived };
}

/** One email as Resend's JSON (snake_case); `withAttachments` false for the batch endpoint. */
function wire(from: string, m: EmailMessage, withAttachments: boolean) {
  return {
    from,
    to: [m.to],
    subject: m.subject,
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    ...(m.replyTo ? { reply_to: m.replyTo } : {}),
    ...(m.headers && Object.keys(m.headers).length ? { headers: m.headers } : {}),
    ...(m.tags?.length ? { tags: m.tags } : {}),
    ...(withAttachments && m.attachments?.length
      ? {
        attachments: m.attachments.map((a) => ({
          filename: a.filename,
          ...(a.content ? { content: a.content } : { path: a.path }),
          ...(a.contentType ? { content_type: a.contentType } : {}),
        })),
      }
      : {}),
  };
}

function readReply(reply: ProviderReply): SendResult {
  if (reply.status >= 200 && reply.status < 300) {
    const ok = SuccessBody.safeParse(reply.json);
    if (!ok.success) return failed(unreadableSuccess(reply));
    return { ok: true, provider: PROVIDER, providerMessageId: ok.data.id };
  }
  return failed(errorOf(reply));
}

/** Permissive mode answers ids for the accepted emails, in order, and an error per refused index. */
function readBatchReply(reply: ProviderReply, count: number): SendResult[] {
  if (reply.status < 200 || reply.status >= 300) {
    const error = errorOf(reply);
    return Array.from({ length: count }, () => failed(error));
  }
  const body = BatchBody.safeParse(reply.json);
  const refused = new Map((body.data?.errors ?? []).map((e) => [e.index, e.message]));
  if (!body.success || body.data.data.length !== count - refused.size) {
    const error = unreadableSuccess(reply);
    return Array.from({ length: count }, () => failed(error));
  }
  const ids = body.data.data.map((d) => d.id);
  return Array.from({ length: count }, (_, i): SendResult => {
    const why = refused.get(i);
    if (why !== undefined) {
      return failed({
        class: "permanent",
        code: "validation_error",
        message: safeMessage(why),
        httpStatus: reply.status,
      });
    }
    return { ok: true, provider: PROVIDER, providerMessageId: ids.shift()! };
  });
}

function errorOf(reply: ProviderReply): ChannelFailure {
  const err = ErrorBody.safeParse(reply.json);
  if (!err.success) return httpFailure(reply);
  return withRetryAfter(reply, {
    class: RETRYABLE.has(err.data.name) ? "retryable" : classOfStatus(reply.status),
    code: err.data.name,
    message: safeMessage(err.data.message),
    httpStatus: reply.status,
  });
}

function receivedOf(b: z.infer<typeof ReceivedBody>): ReceivedEmail {
  const header = (name: string) => {
    const v = Object.entries(b.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
    return typeof v === "string" ? v : null;
  };
  const messageId = b.message_id ?? header("message-id");
  return {
    id: b.id,
    from: b.from,
    to: b.to,
    subject: b.subject ?? "",
    text: b.text ?? null,
    html: b.html ?? null,
    messageId,
    references: (header("references") ?? "").split(/\s+/).filter((r) => /^<[^<>]+>$/.test(r)),
    attachments: (b.attachments ?? []).map((a) => ({
      filename: a.filename ?? "attachment",
      contentType: a.content_type ?? null,
    })),
  };
}

const invalidAddress = (): ChannelFailure => ({
  class: "permanent",
  code: "INVALID_RECIPIENT",
  message: "The recipient is not an email address",
});

const failed = (error: ChannelFailure): SendResult => ({ ok: false, provider: PROVIDER, error });
