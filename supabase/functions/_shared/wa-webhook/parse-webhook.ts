import type { InboundMessage } from "../conversations/record-inbound.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { StatusUpdate } from "../outbound/delivery-status.ts";
import * as S from "./schemas.ts";
import { toInboundMessage } from "./inbound-message.ts";
import { toStatusUpdate } from "./status-update.ts";
import { type CallEvent, toCallEvent } from "./call-event.ts";

/** One thing a webhook told us, in the order Meta sent it. */
export type WebhookEvent =
  /** `agents`: the account whose Genesys agents answer this message (routing `agent`). */
  | { kind: "message"; message: InboundMessage; agents?: WhatsAppAccount }
  /** `agents`: set when the number's account hands conversations to Genesys (receipts owed). */
  | { kind: "status"; update: StatusUpdate; agents?: WhatsAppAccount }
  | { kind: "call"; call: CallEvent }
  /** Not recorded, only logged: `event` is the log event, `fields` what it says. */
  | { kind: "note"; level: "info" | "warn"; event: string; fields: Record<string, unknown> };

export type ParsedWebhook =
  | { isWhatsApp: true; events: WebhookEvent[] }
  | { isWhatsApp: false; object: string | null };

/**
 * A signed WhatsApp Cloud API webhook body, whatever it holds, as ordered events. Never throws:
 * anything malformed becomes a `note` (Meta retries a non-2xx for days, so a payload we cannot
 * use is logged and acknowledged, not refused). Only a body that is not a
 * `whatsapp_business_account` webhook at all is reported as such.
 */
export function parseWhatsAppWebhook(payload: unknown, correlationId: string): ParsedWebhook {
  const envelope = S.Envelope.safeParse(payload);
  if (!envelope.success || envelope.data.object !== "whatsapp_business_account") {
    const object = (payload as { object?: unknown } | null)?.object;
    return { isWhatsApp: false, object: typeof object === "string" ? object.slice(0, 64) : null };
  }
  const events: WebhookEvent[] = [];
  for (const rawEntry of envelope.data.entry) {
    const entry = S.Entry.safeParse(rawEntry);
    if (!entry.success) {
      events.push(note("warn", "WHATSAPP_WEBHOOK_MALFORMED", { part: "entry" }));
      continue;
    }
    for (const rawChange of entry.data.changes) {
      const change = S.Change.safeParse(rawChange);
      if (!change.success) {
        events.push(note("warn", "WHATSAPP_WEBHOOK_MALFORMED", { part: "change" }));
      } else if (change.data.field === "messages") {
        events.push(...messagesChange(change.data.value, correlationId));
      } else if (change.data.field === "calls") {
        events.push(...callsChange(change.data.value));
      } else {
        events.push(note("info", "WHATSAPP_FIELD_IGNORED", { field: change.data.field }));
      }
    }
  }
  return { isWhatsApp: true, events };
}

function messagesChange(rawValue: unknown, correlationId: string): WebhookEvent[] {
  const value = S.MessagesValue.parse(rawValue);
  const events: WebhookEvent[] = [...errorsOf(value.errors)];
  const env = { correlationId, names: namesOf(value.contacts), business: value.metadata };
  for (const raw of value.messages ?? []) {
    const r = toInboundMessage(raw, env);
    events.push(
      r.ok ? { kind: "message", message: r.message } : note("warn", "WHATSAPP_MESSAGE_INVALID", {
        provider_message_id: r.providerMessageId,
        reason: r.reason,
      }),
    );
  }
  for (const raw of value.statuses ?? []) {
    const r = toStatusUpdate(raw);
    if (r.kind === "update") events.push({ kind: "status", update: r.update });
    else if (r.kind === "ignored") {
      events.push(note("info", "WHATSAPP_STATUS_IGNORED", {
        provider_message_id: r.providerMessageId,
        status: r.status,
      }));
    } else events.push(note("warn", "WHATSAPP_STATUS_INVALID", { reason: r.reason }));
  }
  return events;
}

function callsChange(rawValue: unknown): WebhookEvent[] {
  const value = S.CallsValue.parse(rawValue);
  const events: WebhookEvent[] = [...errorsOf(value.errors)];
  for (const raw of value.calls ?? []) {
    const r = toCallEvent(raw);
    events.push(
      r.ok
        ? { kind: "call", call: r.call }
        : note("warn", "WHATSAPP_CALL_INVALID", { reason: r.reason }),
    );
  }
  // Call statuses (RINGING, ACCEPTED, REJECTED of business-initiated calls) are not message
  // statuses: they only say how a call is going, and the terminate event closes it.
  for (const raw of value.statuses ?? []) {
    const s = raw as { id?: unknown; status?: unknown } | null;
    events.push(note("info", "WHATSAPP_CALL_STATUS", {
      call_id: typeof s?.id === "string" ? s.id.slice(0, 256) : undefined,
      status: typeof s?.status === "string" ? s.status.slice(0, 32) : undefined,
    }));
  }
  return events;
}

/** Errors Meta reports about the change itself (not about one message), logged as they come. */
function errorsOf(errors: unknown[] | undefined): WebhookEvent[] {
  return (errors ?? []).map((raw) => {
    const e = S.MetaError.safeParse(raw);
    return note(
      "warn",
      "WHATSAPP_WEBHOOK_ERROR",
      e.success
        ? { error_code: e.data.code, error_title: e.data.title ?? e.data.message }
        : { reason: "malformed error" },
    );
  });
}

function namesOf(contacts: unknown[] | undefined): Map<string, string> {
  const names = new Map<string, string>();
  for (const raw of contacts ?? []) {
    const c = S.Contact.safeParse(raw);
    const name = c.success ? c.data.profile?.name?.trim() : undefined;
    if (c.success && name) names.set(c.data.wa_id, name);
  }
  return names;
}

function note(
  level: "info" | "warn",
  event: string,
  fields: Record<string, unknown>,
): WebhookEvent {
  return { kind: "note", level, event, fields };
}
