import { Call } from "./schemas.ts";
import { pgSafe } from "../text/pg-safe.ts";
import { isoFromUnixSeconds } from "./timestamps.ts";
import { e164Shaped } from "../phone.ts";

/** One WhatsApp Business Calling event (`calls[]` of a `calls` change). */
export interface CallEvent {
  /** Meta's call id (`wacid.…`): the call id the post-call flow is keyed by. */
  callId: string;
  /** connect, terminate, ... */
  event: string;
  /** The person on the call, E.164: the caller, or the callee of a business-initiated call. */
  phoneNumber: string;
  direction?: string;
  /** On terminate: COMPLETED (the call was answered) or FAILED. */
  status?: string;
  durationSeconds?: number;
  startedAt?: string;
  endedAt?: string;
}

export type CallParse = { ok: true; call: CallEvent } | { ok: false; reason: string };

export function toCallEvent(raw: unknown): CallParse {
  const r = Call.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, reason: `${i.path.join(".") || "call"}: ${i.message}` };
  }
  const c = r.data;
  const person = e164Shaped(c.direction === "BUSINESS_INITIATED" ? c.to : c.from);
  if (!person) return { ok: false, reason: "the caller is not a phone number" };
  return {
    ok: true,
    call: pgSafe({
      callId: c.id,
      event: c.event,
      phoneNumber: person,
      direction: c.direction,
      status: c.status,
      durationSeconds: c.duration,
      startedAt: isoFromUnixSeconds(c.start_time),
      endedAt: isoFromUnixSeconds(c.end_time ?? c.timestamp),
    }),
  };
}
