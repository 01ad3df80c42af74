/**
 * SMS keywords, the words carriers and regulators (CTIA, and Twilio's defaults) expect every
 * sender to honour. A keyword is the whole message, case-insensitive, trimmed: "stop" opts out,
 * "please stop calling me" is a conversation the AI reads.
 */

export type KeywordAction = "stop" | "start" | "help";

export interface SmsKeyword {
  action: KeywordAction;
  /** The word as matched, upper-cased. */
  word: string;
  /**
   * The word is also an everyday answer ("yes"): it re-subscribes a person who opted out, and
   * from anyone else it is an ordinary message.
   */
  onlyWhenOptedOut: boolean;
}

const ACTIONS: Record<string, KeywordAction> = {
  STOP: "stop",
  STOPALL: "stop",
  UNSUBSCRIBE: "stop",
  END: "stop",
  QUIT: "stop",
  CANCEL: "stop",
  OPTOUT: "stop",
  REVOKE: "stop",
  START: "start",
  UNSTOP: "start",
  YES: "start",
  HELP: "help",
  INFO: "help",
};

const CONVERSATIONAL = new Set(["YES"]);

// Phones add a trailing full stop or exclamation mark ("Stop.", "STOP!") on their own.
const TRAILING_PUNCTUATION = /[.!]+$/;

export function smsKeywordOf(text: string | null | undefined): SmsKeyword | null {
  if (!text) return null;
  const word = text.trim().replace(TRAILING_PUNCTUATION, "").toUpperCase();
  const action = Object.hasOwn(ACTIONS, word) ? ACTIONS[word] : undefined;
  if (!action) return null;
  return { action, word, onlyWhenOptedOut: CONVERSATIONAL.has(word) };
}

/** What each keyword answers. Plain GSM-7 text, one segment each. */
export const KEYWORD_REPLIES: Record<KeywordAction, string> = {
  stop:
    "You are unsubscribed and will receive no more SMS from us. Reply START to subscribe again.",
  start: "You are subscribed to SMS again. Reply STOP to unsubscribe, HELP for help.",
  help:
    "Reply to this number to reach our assistant, or call us. Reply STOP to unsubscribe, START to subscribe again.",
};
