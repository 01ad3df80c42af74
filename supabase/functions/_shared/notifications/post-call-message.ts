import { formatSms } from "./sms-format.ts";
import { formatWhatsAppSummary, templateParameter } from "./whatsapp-format.ts";

/** The messages a caller gets after a call, one per channel, from the same summary. */

/** Sent on both channels when the call has no summary (yet). GSM-7, one SMS segment. */
export const GENERIC_THANK_YOU =
  "Thank you for your call. We'll follow up shortly. Reply here if you need anything.";

/** The SMS always ends with this, whatever had to be cut from the summary before it. */
const SMS_REPLY_LINE = "\nReply to this message if you need anything.";
export const SMS_MAX_SEGMENTS = 3;

export interface PostCallMessageInput {
  /** Null, missing or blank: the generic thank-you. */
  summary?: string | null;
  name?: string;
  callId: string;
  endedAt?: Date | string;
}

export interface PostCallMessages {
  /** Free-form text for inside the 24-hour window. */
  whatsappText: string;
  /** Body parameters for WHATSAPP_SUMMARY_TEMPLATE outside the window: [summary]. */
  whatsappTemplateParams: string[];
  /** Plain text, at most 3 segments. */
  smsText: string;
}

export function buildPostCallMessages(input: PostCallMessageInput): PostCallMessages {
  const summary = input.summary?.trim();
  if (!summary) {
    return {
      whatsappText: GENERIC_THANK_YOU,
      whatsappTemplateParams: [GENERIC_THANK_YOU],
      smsText: GENERIC_THANK_YOU,
    };
  }
  const intro = input.name?.trim()
    ? `Hi ${input.name.trim()}, here is the summary of your call:`
    : "Summary of your call:";
  return {
    whatsappText: formatWhatsAppSummary({
      summary,
      name: input.name,
      callId: input.callId,
      endedAt: input.endedAt,
    }),
    whatsappTemplateParams: [templateParameter(summary)],
    smsText: formatSms(`${intro}\n${summary}`, {
      maxSegments: SMS_MAX_SEGMENTS,
      suffix: SMS_REPLY_LINE,
    }).text,
  };
}
