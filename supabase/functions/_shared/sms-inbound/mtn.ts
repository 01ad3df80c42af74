import { z } from "zod";
import { parseJson } from "../http/body.ts";
import { type InboundSms, MAX_INBOUND_SMS_CHARS, type SmsStatusEvent } from "./types.ts";
import { validated } from "../http/validated.ts";
import { echoedDeliveryId } from "../outbound/delivery-id.ts";

/**
 * The MTN-style gateway's webhooks, both JSON signed with `X-MTN-Signature`:
 *
 * - an inbound SMS: `{from, to, message, id?}`;
 * - a delivery receipt, modelled on MTN's SMS v3 API (whose status words are GSMA OneAPI's):
 *   `{requestId | transactionId, deliveryStatus, errorCode?, errorMessage?}` (other fields, such
 *   as `clientCorrelatorId` and `receiverAddress`, are accepted and not needed). `requestId` is
 *   what the send answered (`data.requestId`), the id our MTN adapter logs; `transactionId` is
 *   tried when the adapter logged that instead.
 */

const MAX_ID = 256;
/** A string or a number (some gateways send MSISDNs and ids as numbers), as clean text. */
const textOrNumber = (max: number) =>
  z.union([z.string().max(max), z.number().finite()])
    .transform((v) => String(v).trim())
    .pipe(z.string().min(1));
const Id = textOrNumber(MAX_ID);
const Address = textOrNumber(64);

const Inbound = z.object({
  from: Address,
  to: Address.optional(),
  message: z.string().max(MAX_INBOUND_SMS_CHARS),
  id: Id.optional(),
});

const Receipt = z.object({
  requestId: Id.optional(),
  transactionId: Id.optional(),
  deliveryStatus: z.string().trim().min(1).max(64),
  errorCode: Id.optional(),
  errorMessage: z.string().max(1000).optional(),
  clientCorrelatorId: z.unknown().optional(),
}).refine((r) => r.requestId || r.transactionId, {
  message: "requestId or transactionId is required",
  path: ["requestId"],
});

export async function parseMtnInbound(raw: Uint8Array): Promise<InboundSms> {
  const m = validated(Inbound, parseJson(raw));
  return {
    provider: "mtn",
    // A gateway that sends no id redelivers the same bytes, so their hash is a stable id.
    providerMessageId: m.id ?? `sha256:${await sha256Hex(raw)}`,
    from: m.from,
    body: m.message,
    messageType: "text",
    metadata: m.to ? { to: m.to } : {},
  };
}

/** GSMA OneAPI delivery statuses, as MTN's SMS v3 receipts use them. */
const STATUSES: Record<string, SmsStatusEvent["status"]> = {
  deliveredtoterminal: "delivered",
  deliveredtonetwork: "sent",
  // Accepted by the network, waiting for the handset (switched off, out of coverage).
  messagewaiting: "sent",
  deliveryimpossible: "failed",
  deliveryuncertain: null,
  deliverynotificationnotsupported: null,
};

export function parseMtnReceipt(raw: Uint8Array): SmsStatusEvent {
  const r = validated(Receipt, parseJson(raw));
  const key = r.deliveryStatus.toLowerCase();
  const status = Object.hasOwn(STATUSES, key) ? STATUSES[key] : null;
  const failed = status === "failed";
  const deliveryId = echoedDeliveryId(r.clientCorrelatorId);
  return {
    provider: "mtn",
    ...(deliveryId ? { deliveryId } : {}),
    providerMessageIds: [
      ...new Set([r.requestId, r.transactionId].filter((id) => id !== undefined)),
    ],
    providerStatus: r.deliveryStatus,
    status,
    ...(failed
      ? {
        errorCode: r.errorCode ?? r.deliveryStatus,
        errorMessage: r.errorMessage ?? "The network could not deliver the message",
        // The network gave up on this number; sending the same message again fails the same way.
        errorClass: "permanent" as const,
      }
      : {}),
  };
}

async function sha256Hex(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
