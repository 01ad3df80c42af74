import type { ErrorClass } from "../outbound/adapter.ts";
import type { JsonObject } from "../types/json.ts";

export type SmsProvider = "mtn" | "twilio";

/** One SMS a person sent us, parsed from either provider's webhook. */
export interface InboundSms {
  provider: SmsProvider;
  /** Twilio's MessageSid; the gateway's id, or a hash of the raw body when it sent none. */
  providerMessageId: string;
  /** The sender as the provider wrote it (normalised to E.164 later). */
  from: string;
  body: string;
  /** text, or image / audio / video / document for an MMS. */
  messageType: string;
  metadata: JsonObject;
}

/** A delivery callback for a message we sent. */
export interface SmsStatusEvent {
  provider: SmsProvider;
  /** The ids the message may be logged under, tried in order. */
  providerMessageIds: string[];
  /** Our row id, echoed back (MTN clientCorrelatorId, Twilio's ?delivery_id=). */
  deliveryId?: string;
  /** The provider's own word for the status, as sent. */
  providerStatus: string;
  /** What it means for our row; null when it moves nothing (queued, uncertain, unknown). */
  status: "sent" | "delivered" | "read" | "failed" | null;
  errorCode?: string;
  errorMessage?: string;
  errorClass?: ErrorClass;
}

/**
 * The longest inbound SMS text either provider's webhook may carry: ten times Twilio's own
 * 1,600-character limit, so no real message is refused, while a 1 MiB "message" never reaches
 * the database or the AI prompt.
 */
export const MAX_INBOUND_SMS_CHARS = 1_600 * 10;
