import { rpc } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import { sendMessage, type SendMessageDeps } from "../outbound/send-message.ts";
import { smsKeywordOf } from "../sms-inbound/keywords.ts";

/** What STOP and START answer on WhatsApp: the person always learns how to undo it. */
export const WHATSAPP_KEYWORD_REPLIES = {
  stop: "You will receive no more WhatsApp messages from us. Reply START to receive them again.",
  start: "You will receive WhatsApp messages from us again. Reply STOP to stop them.",
} as const;

export interface WhatsAppInbound {
  deliveryId: string;
  sessionId: string;
  /** E.164 */
  sender: string;
  correlationId: string;
}

/**
 * Opt-out on WhatsApp, with the same words as SMS (STOP, UNSUBSCRIBE, START, …; "yes" only from
 * someone who opted out). A keyword sets the profile's WhatsApp flag and is confirmed (the
 * confirmation is the one message an opted-out person still gets); any other message from a
 * person who opted out gets no AI answer, which could not be sent anyway. HELP is left to the
 * agent. Returns what it did, or null when the message is the agent's to answer.
 */
export async function handleWhatsAppOptOut(
  deps: SendMessageDeps,
  inbound: WhatsAppInbound,
  log: Logger,
  /** The message's text and the person's opt-in, when the caller read them already. */
  preloaded?: { body: string | null; allows_whatsapp: boolean },
): Promise<"keyword" | "opted_out" | null> {
  const [row] = preloaded ? [preloaded] : await deps.sql<
    { body: string | null; allows_whatsapp: boolean }[]
  >`
    select m.body, p.allows_whatsapp
    from public.message_delivery_log m join public.profiles p on p.id = m.profile_id
    where m.id = ${inbound.deliveryId}`;
  if (!row) return null;
  const keyword = smsKeywordOf(row.body);
  const action = keyword?.action === "help" || (keyword?.onlyWhenOptedOut && row.allows_whatsapp)
    ? null
    : keyword?.action;
  if (!action) return row.allows_whatsapp ? null : "opted_out";

  const [{ changed }] = await rpc(deps.sql, "set_channel_preference", {
    p_phone_number: inbound.sender,
    p_channel: "whatsapp",
    p_allowed: action === "start",
  });
  log.info("WHATSAPP_KEYWORD", { action, changed });
  if (changed) {
    await sendMessage(deps, {
      channel: "whatsapp",
      to: inbound.sender,
      body: WHATSAPP_KEYWORD_REPLIES[action],
      sessionId: inbound.sessionId,
      purpose: "keyword_reply",
      correlationId: inbound.correlationId,
      idempotencyKey: `keyword_reply:${inbound.deliveryId}`,
    });
  }
  return "keyword";
}
