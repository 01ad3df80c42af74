import Mustache from "mustache";
import { GENERIC_THANK_YOU } from "./post-call-message.ts";

export interface PostCallEmail {
  subject: string;
  text: string;
  html: string;
}

/**
 * The post-call summary as a short email: a subject, the summary as plain text, and the same as
 * a small HTML part (escaped: the summary is the voice agent's text). Replying to it continues
 * the conversation, like replying to the WhatsApp or SMS version.
 */
export function formatPostCallEmail(input: { summary?: string | null }): PostCallEmail {
  const summary = input.summary?.trim();
  const lead = summary ? "Here is the summary of your call:" : GENERIC_THANK_YOU;
  const closing = "Reply to this email if you need anything.";
  const text = summary ? `${lead}\n\n${summary}\n\n${closing}` : `${lead}\n`;
  const paragraphs = (summary ? [lead, summary, closing] : [lead]).map((p) =>
    `<p>${Mustache.escape(p).replace(/\n/g, "<br>")}</p>`
  );
  return {
    subject: "Summary of your call",
    text,
    html: `<!doctype html><html><body>${paragraphs.join("")}</body></html>`,
  };
}
