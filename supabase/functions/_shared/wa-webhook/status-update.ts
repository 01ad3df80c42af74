import type { StatusUpdate } from "../outbound/delivery-status.ts";
import { classifyWhatsAppErrorCode } from "../channels/whatsapp.ts";
import { safeMessage } from "../channels/http.ts";
import { type MetaErrorT, Status } from "./schemas.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { isoFromUnixSeconds } from "./timestamps.ts";
import { echoedDeliveryId } from "../outbound/delivery-id.ts";

export type StatusParse =
  | { kind: "update"; update: StatusUpdate }
  /** A status this stack does not track (`deleted`, `warning`, `played`, ...). */
  | { kind: "ignored"; providerMessageId: string; status: string }
  | { kind: "invalid"; reason: string };

const TRACKED = new Set(["sent", "delivered", "read", "failed"]);

/**
 * One of Meta's `statuses[]` as a StatusUpdate for the outbound row with that wamid. A failure
 * carries Meta's first error code and words, classified by the WhatsApp adapter's rules, so
 * 131026 ("message undeliverable": not on WhatsApp) teaches the profile like a failed send does.
 */
export function toStatusUpdate(raw: unknown): StatusParse {
  const r = Status.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { kind: "invalid", reason: `${i.path.join(".") || "status"}: ${i.message}` };
  }
  const s = r.data;
  if (!TRACKED.has(s.status)) return { kind: "ignored", providerMessageId: s.id, status: s.status };
  const status = s.status as StatusUpdate["status"];
  const at = isoFromUnixSeconds(s.timestamp);
  const deliveryId = echoedDeliveryId(s.biz_opaque_callback_data);
  const update: StatusUpdate = {
    channel: "whatsapp",
    providerMessageId: s.id,
    ...(deliveryId ? { deliveryId } : {}),
    status,
    metadata: {
      ...(at ? { [`whatsapp_${status}_at`]: at } : {}),
      ...(s.pricing ? { pricing: s.pricing } : {}),
    },
  };
  const error = s.errors?.[0];
  if (status === "failed" && error) Object.assign(update, failureOf(error));
  return { kind: "update", update: pgSafe(update) };
}

function failureOf(e: MetaErrorT): Partial<StatusUpdate> {
  const { class: errorClass, notOnChannel } = classifyWhatsAppErrorCode(e.code);
  const words = e.title ?? e.message ?? "WhatsApp could not deliver the message";
  const details = e.error_data?.details;
  return {
    errorCode: String(e.code),
    errorMessage: safeMessage(details && details !== words ? `${words}: ${details}` : words),
    errorClass,
    notOnChannel,
  };
}
