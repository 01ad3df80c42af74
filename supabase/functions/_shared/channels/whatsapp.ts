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
} from "../outbound/adapter.ts";

/** WhatsApp Cloud API (Meta Graph): `POST {base}/{phone-number-id}/messages`, Bearer token. */

export interface WhatsAppConfig {
  baseUrl: string;
  accessToken?: string;
  phoneNumberId?: string;
}

export interface WhatsAppTemplate {
  name: string;
  /** Meta language code of the approved template, e.g. "en" or "en_US". */
  language: string;
  bodyParameters: string[];
}

export interface EchoOptions {
  /**
   * Our row's id, sent as `biz_opaque_callback_data`: Meta echoes it in every status webhook of
   * the message, so a send that timed out but was accepted is recognised, not sent again.
   */
  callbackData?: string;
}

export interface WhatsAppAdapter {
  sendText(
    to: string,
    body: string,
    options?: { previewUrl?: boolean; replyTo?: string } & EchoOptions,
  ): Promise<SendResult>;
  sendTemplate(to: string, template: WhatsAppTemplate, options?: EchoOptions): Promise<SendResult>;
  /** An image, video, audio, document or sticker by link (WhatsApp fetches it from there). */
  sendMedia(to: string, media: WhatsAppMedia, options?: EchoOptions): Promise<SendResult>;
}

export interface WhatsAppMedia {
  type: "image" | "video" | "audio" | "document" | "sticker";
  link: string;
  /** image, video and document only. */
  caption?: string;
  /** document only: the name the person sees. */
  filename?: string;
}

const echo = (
  o: EchoOptions,
) => (o.callbackData ? { biz_opaque_callback_data: o.callbackData } : {});

const PROVIDER = "whatsapp";

const SuccessBody = z.object({
  messaging_product: z.literal("whatsapp"),
  contacts: z.array(z.object({ input: z.string(), wa_id: z.string() })).optional(),
  messages: z.array(z.object({ id: z.string().min(1), message_status: z.string().optional() }))
    .min(1),
});

const ErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    error_data: z.object({ details: z.string().optional() }).loose().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

/**
 * Meta's codes that a later retry can get through: Graph API throttling (1 unknown, 2 service,
 * 4 app limit, 80007 WABA limit), Cloud API throughput (130429), the business/consumer pair
 * limit (131056), the spam rate limit (131048), and transient failures (131000 something went
 * wrong, 131016 service unavailable).
 */
const RETRYABLE = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056]);
/** More than 24 h since the user's last message: only a template can reach them (470 on-prem). */
const WINDOW_CLOSED = new Set([131047, 470]);
/** "Message undeliverable": in practice the number has no WhatsApp account. */
const NOT_ON_WHATSAPP = 131026;
/** Throughput limits on the sending number or app: the sender must slow down. */
const THROTTLED = new Set([4, 80007, 130429, 131056]);

export function createWhatsAppAdapter(
  config: WhatsAppConfig,
  opts: AdapterOptions = {},
): WhatsAppAdapter {
  assertBaseUrl("WhatsApp base URL", config.baseUrl);
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function post(to: string, message: Record<string, unknown>): Promise<SendResult> {
    const missing = missingFields({
      accessToken: config.accessToken,
      phoneNumberId: config.phoneNumberId,
    });
    if (missing.length) return failed(notConfigured(missing));
    const digits = e164Digits(to);
    if (!digits) return failed(invalidRecipient());

    const url = joinUrl(config.baseUrl, `${encodeURIComponent(config.phoneNumberId!)}/messages`);
    const result = await exchange(fetchFn, url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${config.accessToken}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: digits,
        ...message,
      }),
    }, timeoutMs);
    if (!result.ok) return failed(result.failure);
    return readReply(result.reply);
  }

  return {
    sendText: (to, body, options = {}) =>
      post(to, {
        ...echo(options),
        ...(options.replyTo ? { context: { message_id: options.replyTo } } : {}),
        type: "text",
        text: { body, preview_url: options.previewUrl ?? false },
      }),
    sendMedia: (to, media, options = {}) =>
      post(to, {
        ...echo(options),
        type: media.type,
        [media.type]: {
          link: media.link,
          ...(media.caption && media.type !== "audio" && media.type !== "sticker"
            ? { caption: media.caption }
            : {}),
          ...(media.filename && media.type === "document" ? { filename: media.filename } : {}),
        },
      }),
    sendTemplate: (to, template, options = {}) =>
      post(to, {
        ...echo(options),
        type: "template",
        template: {
          name: template.name,
          language: { code: template.language },
          ...(template.bodyParameters.length
            ? {
              components: [{
                type: "body",
                parameters: template.bodyParameters.map((text) => ({
                  type: "text",
                  text: sanitizeTemplateText(text),
                })),
              }],
            }
            : {}),
        },
      }),
  };
}

/**
 * Meta rejects a template parameter containing a newline, a tab or more than four consecutive
 * spaces (error 132018), so every run of whitespace becomes one space.
 */
export function sanitizeTemplateText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function readReply(reply: ProviderReply): SendResult {
  if (reply.status >= 200 && reply.status < 300) {
    const ok = SuccessBody.safeParse(reply.json);
    if (!ok.success) return failed(unreadableSuccess(reply));
    return { ok: true, provider: PROVIDER, providerMessageId: ok.data.messages[0].id };
  }
  const err = ErrorBody.safeParse(reply.json);
  if (!err.success) return failed(httpFailure(reply));
  return failed(classify(reply, err.data.error));
}

/**
 * The class of one of Meta's error codes, wherever it was reported: a send's HTTP answer, or the
 * `errors[]` of a `failed` status webhook (which has no HTTP status, hence the fallback).
 */
export function classifyWhatsAppErrorCode(
  code: number,
  fallback: ErrorClass = "permanent",
): { class: ErrorClass; notOnChannel: boolean } {
  const cls: ErrorClass = WINDOW_CLOSED.has(code)
    ? "window_closed"
    : RETRYABLE.has(code)
    ? "retryable"
    : fallback;
  return { class: cls, notOnChannel: code === NOT_ON_WHATSAPP };
}

function classify(reply: ProviderReply, error: z.infer<typeof ErrorBody>["error"]): ChannelFailure {
  const details = error.error_data?.details;
  const { class: cls, notOnChannel } = classifyWhatsAppErrorCode(
    error.code,
    classOfStatus(reply.status),
  );
  return withRetryAfter(reply, {
    class: cls,
    code: String(error.code),
    message: safeMessage(
      details && details !== error.message ? `${error.message}: ${details}` : error.message,
    ),
    httpStatus: reply.status,
    ...(notOnChannel ? { notOnChannel: true } : {}),
    ...(THROTTLED.has(error.code) ? { throttled: true } : {}),
  });
}

const failed = (error: ChannelFailure): SendResult => ({ ok: false, provider: PROVIDER, error });
