import { formatSms } from "../notifications/sms-format.ts";
import { markdownToWhatsApp, WHATSAPP_TEXT_LIMIT } from "../notifications/whatsapp-format.ts";
import { longestPrefix } from "../notifications/truncate.ts";
import { CHANNEL_LABELS } from "./prompt.ts";
import { formatMetaReply } from "../notifications/meta-format.ts";
import type { SendChannel } from "../outbound/senders.ts";

/** A leading "[SMS] " the model copied from the history's channel tags is not for the person. */
const COPIED_TAG = new RegExp(`^\\[(?:${Object.values(CHANNEL_LABELS).join("|")})\\]\\s*`, "i");

const EMAIL_TEXT_LIMIT = 20_000;

/**
 * The model's answer as the channel carries it: SMS plain text within 3 segments; WhatsApp with
 * Markdown emphasis turned into WhatsApp's and within the 4096-character limit; Messenger and
 * Instagram plain text (no Markdown) within one message (2,000 / 1,000 characters); email the
 * text as written.
 */
export function formatReply(channel: SendChannel | "email", text: string): string {
  const answer = text.trim().replace(COPIED_TAG, "");
  // Email carries the answer as written (send-email.ts adds the HTML part), within a sane size.
  if (channel === "email") return answer.slice(0, EMAIL_TEXT_LIMIT);
  if (channel === "messenger" || channel === "instagram") return formatMetaReply(channel, answer);
  if (channel === "sms") return formatSms(answer, { maxSegments: 3 }).text;
  const rich = markdownToWhatsApp(answer);
  if (rich.length <= WHATSAPP_TEXT_LIMIT) return rich;
  const limit = WHATSAPP_TEXT_LIMIT - 1;
  return `${longestPrefix(rich, (p) => p.length <= limit, limit)}…`;
}
