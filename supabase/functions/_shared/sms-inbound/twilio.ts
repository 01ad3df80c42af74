import { z } from "zod";
import { classifyTwilioDeliveryError } from "../channels/sms-twilio.ts";
import { badRequest } from "../http/errors.ts";
import { pgSafeText } from "../text/pg-safe.ts";
import { type InboundSms, MAX_INBOUND_SMS_CHARS, type SmsStatusEvent } from "./types.ts";
import { validated } from "../http/validated.ts";
import { echoedDeliveryId } from "../outbound/delivery-id.ts";

/**
 * Twilio Programmable Messaging webhooks, both `application/x-www-form-urlencoded`: an incoming
 * message (`MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl0`, `MediaContentType0`, …)
 * and a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`).
 */

export type FormParams = Array<[string, string]>;

/** Twilio sends at most 10 media per message. */
const MAX_MEDIA = 10;

/** The posted parameters in order, as the signature needs them (repeated names kept). */
export function parseForm(raw: Uint8Array): FormParams {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw badRequest("HTTP.MALFORMED_FORM", "Body is not a UTF-8 form");
  }
  return [...new URLSearchParams(text)];
}

const Sid = z.string().trim().regex(/^[A-Za-z0-9]{2,64}$/, "is not a Twilio SID");
const Text = (max: number) => z.string().max(max);

const Inbound = z.object({
  MessageSid: Sid,
  From: Text(64).pipe(z.string().trim().min(1)),
  To: Text(64).optional(),
  Body: Text(MAX_INBOUND_SMS_CHARS).default(""),
  NumMedia: z.coerce.number().int().min(0).default(0),
  NumSegments: z.string().max(8).optional(),
  AccountSid: Sid.optional(),
  MessagingServiceSid: Sid.optional(),
  // Sent when the account uses Twilio's Advanced Opt-Out: Twilio's own reading of the keyword.
  OptOutType: z.string().max(16).optional(),
});

export function parseTwilioInbound(params: FormParams): InboundSms {
  const form = firstValues(params);
  const m = validated(Inbound, {
    ...form,
    MessageSid: form.MessageSid ?? form.SmsMessageSid ?? form.SmsSid,
  });
  const media = [];
  for (let i = 0; i < Math.min(m.NumMedia, MAX_MEDIA); i++) {
    const url = form[`MediaUrl${i}`];
    if (url) media.push({ url, content_type: form[`MediaContentType${i}`] ?? "" });
  }
  const description = media.map((x) => `[${kindOf(x.content_type)}: ${x.content_type}]`).join(" ");
  return {
    provider: "twilio",
    providerMessageId: m.MessageSid,
    from: m.From,
    body: m.Body || description,
    messageType: media.length ? kindOf(media[0].content_type) : "text",
    metadata: dropUndefined({
      to: m.To,
      num_segments: m.NumSegments,
      account_sid: m.AccountSid,
      messaging_service_sid: m.MessagingServiceSid,
      opt_out_type: m.OptOutType,
      media: media.length ? media : undefined,
    }),
  };
}

const Status = z.object({
  MessageSid: Sid,
  MessageStatus: z.string().trim().min(1).max(32),
  ErrorCode: z.string().trim().max(16).optional(),
  ErrorMessage: Text(1000).optional(),
});

const STATUSES: Record<string, SmsStatusEvent["status"]> = {
  sent: "sent",
  delivered: "delivered",
  read: "read",
  undelivered: "failed",
  failed: "failed",
  // A scheduled message cancelled before it went out: it will never arrive.
  canceled: "failed",
};

/** `deliveryId`: the `delivery_id` of the StatusCallback URL we sent the message with. */
export function parseTwilioStatus(
  params: FormParams,
  deliveryIdParam?: string | null,
): SmsStatusEvent {
  const form = firstValues(params);
  const s = validated(Status, {
    ...form,
    MessageSid: form.MessageSid ?? form.SmsSid,
    MessageStatus: form.MessageStatus ?? form.SmsStatus,
  });
  const providerStatus = s.MessageStatus.toLowerCase();
  const status = Object.hasOwn(STATUSES, providerStatus) ? STATUSES[providerStatus] : null;
  const code = s.ErrorCode || undefined;
  const deliveryId = echoedDeliveryId(deliveryIdParam);
  return {
    provider: "twilio",
    ...(deliveryId ? { deliveryId } : {}),
    providerMessageIds: [s.MessageSid],
    providerStatus,
    status,
    ...(status === "failed"
      ? {
        errorCode: code ?? providerStatus,
        errorMessage: s.ErrorMessage ?? `Twilio reported the message ${providerStatus}` +
            (code ? ` (error ${code})` : ""),
        errorClass: classifyTwilioDeliveryError(code),
      }
      : {}),
  };
}

/**
 * One value per name: the first, as Twilio never repeats a messaging parameter. Made safe for
 * Postgres here, after the signature was checked over the values as sent.
 */
function firstValues(params: FormParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of params) if (!Object.hasOwn(out, k)) out[k] = pgSafeText(v);
  return out;
}

function kindOf(contentType: string): string {
  const top = contentType.split("/")[0].toLowerCase();
  return top === "image" || top === "audio" || top === "video" ? top : "document";
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
