import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { JsonObject } from "../types/json.ts";
import type { KeywordAction } from "./keywords.ts";

export interface KeywordMessage {
  /** E.164 */
  sender: string;
  provider: string;
  providerMessageId: string;
  body: string;
  action: KeywordAction;
  onlyWhenOptedOut: boolean;
  /** What the keyword answers, when it owes an answer. */
  replyBody: string;
  metadata: JsonObject;
  correlationId: string;
}

export interface RecordedKeyword {
  deliveryId: string;
  sessionId: string;
  profileId: string;
  isNew: boolean;
  /** False when a conversational word ("yes") came from someone who had not opted out. */
  keywordApplied: boolean;
  allowsSms: boolean;
  /** The preference moved (STOP from a subscriber, START from someone who opted out). */
  changed: boolean;
  /** The confirmation or help answer this message owes: queued to send now, or blocked. */
  reply: { deliveryId: string; status: "queued" | "blocked" } | null;
}

/**
 * Records a keyword SMS and applies it in one transaction (record_sms_keyword): the inbound row,
 * the preference change, and the answer it owes as an outbound row — once per provider message id.
 */
export async function recordSmsKeyword(sql: Sql, m: KeywordMessage): Promise<RecordedKeyword> {
  const [r] = await rpc(sql, "record_sms_keyword", {
    p_sender: m.sender,
    p_provider: m.provider,
    p_provider_message_id: m.providerMessageId,
    p_body: m.body,
    p_keyword: m.action,
    p_reply_body: m.replyBody,
    p_metadata: m.metadata as never,
    p_correlation_id: m.correlationId,
    p_only_when_opted_out: m.onlyWhenOptedOut,
  });
  return {
    deliveryId: r.delivery_id,
    sessionId: r.session_id,
    profileId: r.profile_id,
    isNew: r.is_new,
    keywordApplied: r.keyword_applied,
    allowsSms: r.allows_sms,
    changed: r.changed,
    reply: r.reply_delivery_id
      ? { deliveryId: r.reply_delivery_id, status: r.reply_status as "queued" | "blocked" }
      : null,
  };
}
