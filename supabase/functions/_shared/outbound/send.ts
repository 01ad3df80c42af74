import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { SendResult } from "./adapter.ts";
import { type OutcomeItem, type RecordedOutcome, recordOutcome } from "./outcome.ts";
import type { Pacer, TokenReservation } from "./pacing.ts";
import type { OutboxRow, SendChannel, Sender, SenderChannel, SenderDirectory } from "./senders.ts";

/** What every send path is built from (platform/deps.ts `outboundOf`; tests build the same). */
export interface OutboundDeps {
  sql: Sql;
  logger: Logger;
  senders: SenderDirectory;
  /**
   * Required, so it cannot be lost on the way: every send takes a token from its sender's bucket.
   * Tests of other behaviour pass an explicit no-op pacer.
   */
  pacer: Pacer;
  /** How long a send waits for a token before its row is left to dispatch. Default 5 s. */
  maxWaitMs?: number;
  /** Approved template for WhatsApp outside the 24 h window; unset: no WhatsApp there. */
  whatsappTemplate?: { name: string; language: string };
}

/** A logged row about to be sent, and the sender it goes through. */
export interface Outgoing {
  sender: Sender;
  row: OutboxRow;
}

/**
 * Takes one token per send (one round trip when all are available). A send whose sender has no
 * token within the wait is not sent now: its row goes back to the outbox, due at once, and
 * dispatch sends it when the bucket allows. Answers the sends that may go now.
 */
export async function paced<T extends Outgoing>(
  deps: OutboundDeps,
  sends: T[],
  reserved?: TokenReservation,
): Promise<T[]> {
  // Tokens already taken for these sends (in the statement that claimed them) are spent first.
  const unpaced = sends.filter((s) => !reserved?.held.delete(s.sender.key));
  for (const key of reserved?.held ?? []) reserved!.release(key);
  if (unpaced.length === 0) return sends;
  const missing = await deps.pacer.acquire(
    unpaced.map((s) => s.sender),
    deps.maxWaitMs ?? 5_000,
  );
  const deferred = unpaced.filter((s) => missing.has(s.sender.key));
  if (deferred.length > 0) {
    await rpcValue(deps.sql, "release_deliveries", { p_ids: deferred.map((s) => s.row.id) });
  }
  return sends.filter((s) => !deferred.includes(s));
}

/** Sends one row through its sender and records the answer, with the sender's key, on the row. */
export async function sendAndRecord(
  deps: OutboundDeps,
  { sender, row }: Outgoing,
  extra: Omit<OutcomeItem, "deliveryId" | "result" | "senderKey"> = {},
): Promise<{ result: SendResult; outcome: RecordedOutcome }> {
  const result = await sender.send(row);
  const outcome = await recordOutcome(deps.sql, row.id, result, {
    ...extra,
    senderKey: sender.key,
  });
  return { result, outcome };
}

/**
 * Paced (with the token `reserved` for it, when its row's statement took one), then sent and
 * recorded; null when it was left to dispatch for want of a token.
 */
export async function sendPaced(
  deps: OutboundDeps,
  out: Outgoing,
  extra: Omit<OutcomeItem, "deliveryId" | "result" | "senderKey"> = {},
  reserved?: TokenReservation,
): Promise<{ result: SendResult; outcome: RecordedOutcome } | null> {
  const [go] = await paced(deps, [out], reserved);
  return go ? await sendAndRecord(deps, go, extra) : null;
}

/** The sender a send goes through: the one named, else the channel's default. */
export function senderFor(
  deps: OutboundDeps,
  channel: SenderChannel,
  key?: string | null,
): Sender {
  const sender = deps.senders.resolve(channel, key);
  if (!sender) throw new Error(`No sender for ${channel} ${key ?? ""}`.trim());
  return sender;
}

/** The log event for a send's recorded outcome: WHATSAPP_MESSAGE_SENT, SMS_MESSAGE_RETRY_SCHEDULED, … */
export function sendEvent(channel: string, status: RecordedOutcome["status"]): string {
  const prefix = `${channel.toUpperCase()}_MESSAGE`;
  const word = status === "sent" ? "SENT" : status === "failed" ? "FAILED" : "RETRY_SCHEDULED";
  return `${prefix}_${word}`;
}

/**
 * The sender that answers an inbound message: an SMS goes back through the provider and number
 * it was written to (Twilio from its `To`, MTN from its sender id); WhatsApp has one per number.
 */
export async function replySenderKey(
  deps: OutboundDeps,
  inbound: { channel: SendChannel; deliveryId: string },
): Promise<string | undefined> {
  const [row] = await deps.sql<{ provider: string | null; to: string | null }[]>`
    select provider, coalesce(metadata->>'to', metadata->'business'->>'phone_number_id') as to
    from public.message_delivery_log where id = ${inbound.deliveryId}`;
  return replySenderKeyOf(deps, inbound.channel, row?.provider ?? null, row?.to ?? null);
}

/**
 * replySenderKey from the inbound row's provider and the number it was written to, when the
 * caller has read them: WhatsApp from that number (a tenant's own, with its token and bucket).
 */
export function replySenderKeyOf(
  deps: OutboundDeps,
  channel: string,
  provider: string | null,
  to: string | null,
): string | undefined {
  if (channel === "whatsapp") return to ? `whatsapp:${to}` : undefined;
  if (channel !== "sms") return undefined; // Messenger, Instagram: one sender per channel
  if (provider !== "twilio" && provider !== "mtn") return undefined;
  return deps.senders.replyKey(provider, to);
}
