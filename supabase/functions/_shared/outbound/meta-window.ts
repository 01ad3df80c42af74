import type { MessagingType } from "../channels/meta.ts";
import type { SendFailed } from "./adapter.ts";

/** Meta's messaging window: free replies for 24 h after the person wrote, a human agent for 7 days. */
export const RESPONSE_WINDOW_MS = 24 * 3600_000;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3600_000;

/**
 * How a Messenger/Instagram message may go now, given when the person last wrote on that channel:
 * `RESPONSE` inside 24 hours, `MESSAGE_TAG` + `HUMAN_AGENT` (the only tag Instagram allows) up to
 * 7 days, and not at all after that or when they never wrote (null: refused before any call).
 */
export function messagingTypeAt(
  lastInboundAt: string | Date | null | undefined,
  now: number,
): MessagingType | null {
  if (!lastInboundAt) return null;
  const at = new Date(lastInboundAt).getTime();
  if (Number.isNaN(at)) return null;
  const age = now - at;
  if (age < RESPONSE_WINDOW_MS) return { type: "RESPONSE" };
  if (age < HUMAN_AGENT_WINDOW_MS) return { type: "MESSAGE_TAG", tag: "HUMAN_AGENT" };
  return null;
}

/** The refusal recorded on a row whose window has closed: no provider is asked. */
export function metaWindowClosed(channel: "messenger" | "instagram"): SendFailed {
  return {
    ok: false,
    provider: channel,
    error: {
      class: "window_closed",
      code: "META.WINDOW_CLOSED",
      message: `More than 7 days since the person last wrote on ${channel}: Meta allows no message`,
    },
  };
}
