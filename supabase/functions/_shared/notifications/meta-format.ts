import { longestPrefix } from "./truncate.ts";

/** Text as Messenger and Instagram carry it: plain (no Markdown), within each one's limits. */

export type MetaChannel = "messenger" | "instagram";

/** Send API limits for one text message, in UTF-16 units (which never undercount). */
export const META_TEXT_LIMIT: Record<MetaChannel, number> = { messenger: 2000, instagram: 1000 };
/** Quick replies per message, and characters per quick-reply title. */
export const QUICK_REPLY_LIMIT = 13;
export const QUICK_REPLY_TITLE_LIMIT = 20;
/** Button template: text and buttons; generic template: elements, title/subtitle. */
export const BUTTON_TEXT_LIMIT = 640;
export const BUTTONS_LIMIT = 3;
export const BUTTON_TITLE_LIMIT = 20;
export const GENERIC_ELEMENTS_LIMIT = 10;
export const GENERIC_TITLE_LIMIT = 80;
/** How many messages one long text may become before the rest is cut with "…". */
export const MAX_PARTS = 3;

/**
 * Markdown the model writes, as plain text: emphasis markers, headings, code fences and inline
 * code dropped, `[label](url)` as "label (url)", "* " / "- " bullets as "• ".
 */
export function markdownToPlain(text: string): string {
  return text
    .replace(/```[a-z]*\n?([\s\S]*?)```/gi, "$1")
    .replace(/`([^`\n]+)`/g, "$1")
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, "$1 ($2)")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/^\s*[*+-]\s+/gm, "• ")
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/(^|[\s(])[*_](?=\S)([^*_\n]*?\S)[*_](?=[\s).,!?:;]|$)/gm, "$1$2")
    .replace(/~~(?=\S)([^~\n]*?\S)~~/g, "$1")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** `text` cut at a word to at most `limit` characters, with "…" when anything was cut. */
export function truncateClean(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${longestPrefix(text, (p) => p.length <= limit - 1, limit)}…`;
}

/**
 * A long text as consecutive messages of at most `limit` characters each, cut at words (never
 * inside one unless a single word is longer than a message); at most `maxParts`, the last one
 * ending in "…" when the text did not fit in them.
 */
export function splitText(text: string, limit: number, maxParts = MAX_PARTS): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    if (parts.length === maxParts - 1 || rest.length <= limit) {
      parts.push(truncateClean(rest, limit));
      break;
    }
    const head = longestPrefix(rest, (p) => p.length <= limit, limit);
    parts.push(head);
    rest = rest.slice(head.length).trimStart();
  }
  return parts;
}

/** The AI's answer for Messenger or Instagram: plain text within one message. */
export function formatMetaReply(channel: MetaChannel, text: string): string {
  return truncateClean(markdownToPlain(text), META_TEXT_LIMIT[channel]);
}

/** A quick-reply or button title within its limit. */
export function shortTitle(title: string, limit = QUICK_REPLY_TITLE_LIMIT): string {
  return truncateClean(title.replace(/\s+/g, " ").trim(), limit);
}
