import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { HistoryEntry } from "../ai/prompt.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { GenesysOutbox } from "./outbox.ts";

/** What the person reads when the conversation goes to a human agent. */
export const HANDOFF_NOTICE =
  "Thanks for your patience — I'm passing you to a member of our team. An agent will take over this conversation shortly.";

/** Words that only ever mean a human agent. */
const AGENT =
  "(?:human|human being|real person|live agent|agent|representative|operator|humain|agent humain|conseill(?:er|ere)|operat(?:eur|rice)|umukozi|binadamu|wakala|mhudumu|humano|representante|agente|operador|atendente)";
/** Words for a human that also have everyday uses ("someone", "a person"). */
const ANYONE = `(?:${
  AGENT.slice(3, -1)
}|person|someone|somebody|staff|customer service|support team|personne|quelqu'?un|umuntu|mtu|persona|pessoa)`;
/** Verbs of talking to someone. */
const TALK =
  "(?:talk|speak|chat|connect|transfer|reach|parler|discuter|kuvugana|kuvuga|kuongea|kuzungumza|hablar|falar)";
/** Verbs of asking for something. */
const WANT =
  "(?:want|need|get|give me|veux|voudrais|nshaka|ndashaka|nataka|naomba|quiero|necesito|quero|preciso)";
const POLITE = "(?:please|svp|s'il vous plait|tafadhali|por favor|plz|pls)";
const HUMAN_REQUESTS: RegExp[] = [
  // The whole message names an agent: "agent", "human please", "a real person!", "un humain".
  new RegExp(`^(?:${POLITE}\\s+)?(?:(?:an?|un|une|the|um|uma)\\s+)?${AGENT}(?:\\s+${POLITE})?$`),
  // Talking to a human: "can I speak to someone", "je veux parler à quelqu'un",
  // "ndashaka kuvugana n'umukozi", "nataka kuongea na mtu".
  new RegExp(`\\b${TALK}\\b(?:\\s+\\S+){0,4}?\\s+(?:n')?${ANYONE}\\b`),
  // Asking for an agent: "I want a human", "give me an agent", "quiero un agente".
  new RegExp(`\\b${WANT}\\b(?:\\s+\\S+){0,3}?\\s+${AGENT}\\b`),
];

/**
 * An explicit request for a human, in the languages the project's people write in (English,
 * French, Kinyarwanda, Swahili, Spanish, Portuguese): matched without the model, so "I want to
 * talk to a person" always reaches an agent whatever the model makes of it. Either the whole
 * message names a human ("agent", "human please", "un conseiller") or it asks to talk to one.
 * The model still decides the subtler cases through the `conversation_handoff` tool.
 */
export function asksForHuman(text: string | null | undefined): boolean {
  if (!text) return false;
  const t = text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[’`]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  // A long message that mentions a person is a conversation ("the person at the desk said…").
  if (t.length === 0 || t.length > 160) return false;
  return HUMAN_REQUESTS.some((r) => r.test(t));
}

export interface HandoffDeps {
  sql: Sql;
  logger: Logger;
  outbox: Pick<GenesysOutbox, "post">;
  /** The account of the number a message was written to (tenants/accounts.ts, cached). */
  whatsappAccount(phoneNumberId: string | null): Promise<WhatsAppAccount | null>;
}

export interface StartHandoff {
  account: WhatsAppAccount;
  sessionId: string;
  /** The person, E.164. */
  whatsappId: string;
  /** The message that started it: posted to Genesys with the handoff's attributes. */
  deliveryId: string;
  requestedBy: "person" | "ai" | "operator";
  reason: string;
  summary?: string;
  context?: Record<string, unknown>;
  history?: HistoryEntry[];
}

/** Custom attributes stay under this many characters in all (Genesys keeps them small). */
const MAX_ATTRIBUTES = 2_000;

/**
 * The handoff's attributes for the agent (`channel.metadata.customAttributes`, string values):
 * why, who asked, the AI's summary, the session id, the session context as JSON and the
 * transcript (newest lines kept when it is too long; the whole history is in the console).
 */
export function handoffAttributes(h: StartHandoff): Record<string, string> {
  const base: Record<string, string> = {
    handoff_reason: h.reason.slice(0, 300),
    handoff_requested_by: h.requestedBy,
    session_id: h.sessionId,
    ...(h.summary ? { handoff_summary: h.summary.slice(0, 500) } : {}),
  };
  const context = JSON.stringify(h.context ?? {});
  if (context !== "{}") base.session_context = context.slice(0, 400);
  const used = Object.entries(base).reduce((n, [k, v]) => n + k.length + v.length, 0);
  const lines = (h.history ?? []).map((e) =>
    `${e.direction === "inbound" ? "Person" : "Assistant"} (${e.channel}): ${e.body ?? ""}`
  );
  const budget = MAX_ATTRIBUTES - used - "transcript".length;
  const kept: string[] = [];
  let size = 0;
  for (const line of lines.reverse()) {
    if (size + line.length + 1 > budget) break;
    kept.unshift(line);
    size += line.length + 1;
  }
  return kept.length > 0 ? { ...base, transcript: kept.join("\n") } : base;
}

/**
 * Hands the session to the tenant's Genesys agents: one open handoff per session (the state the
 * console counts: `conversation_handoffs.state = 'waiting'`), and the message that started it
 * owed to Genesys with the transcript and context attached. Returns the post to send once the
 * person has been told (genesys/outbox.ts sends and retries it).
 */
export async function startHandoff(deps: HandoffDeps, h: StartHandoff) {
  const [row] = await rpc(deps.sql, "start_conversation_handoff", {
    p_tenant_id: h.account.tenantId,
    p_session_id: h.sessionId,
    p_whatsapp_id: h.whatsappId,
    p_phone_number_id: h.account.phoneNumberId ?? undefined,
    p_requested_by: h.requestedBy,
    p_reason: h.reason,
    p_summary: h.summary,
    p_delivery_id: h.deliveryId,
    p_attributes: handoffAttributes(h),
  });
  deps.logger.info("CONVERSATION_HANDED_OFF", {
    session_id: h.sessionId,
    delivery_id: h.deliveryId,
    tenant_id: h.account.tenantId,
    handoff_id: row.handoff_id,
    requested_by: h.requestedBy,
    is_new: row.is_new,
  });
  return { handoffId: row.handoff_id, isNew: row.is_new, postId: Number(row.outbox_id) };
}

/**
 * A message on a session that is with the agents: owed to Genesys (no AI reply). Null when the
 * session has no open handoff.
 */
export async function forwardIfHandedOff(
  deps: HandoffDeps,
  sessionId: string,
  deliveryId: string,
): Promise<number | null> {
  const [row] = await rpc(deps.sql, "forward_if_handed_off", {
    p_session_id: sessionId,
    p_delivery_id: deliveryId,
  });
  return row ? Number(row.outbox_id) : null;
}
