/**
 * The requests the load generator sends, built in its own process: signed WhatsApp webhooks
 * (one text message, or a batch of 10 statuses) and post-call notifications.
 */
import { createHmac } from "node:crypto";

export type PayloadKind = "wa-message" | "wa-statuses" | "post-call" | "echo";

export interface PayloadSpec {
  kind: PayloadKind;
  /** Makes provider ids unique per run and phase. */
  run: string;
  phoneNumberId: string;
  /** The app secret the webhook's X-Hub-Signature-256 is made with. */
  appSecret?: string;
  /** For post-call: the secret key sent as `apikey`. */
  apikey?: string;
  /** For statuses: how many outbound rows were seeded (`wamid.out-<run>-1…`). */
  seeded?: number;
  /** For echo: the JWT sent as `Authorization: Bearer` (a verify_jwt function). */
  bearer?: string;
}

function envelope(phoneNumberId: string, value: Record<string, unknown>) {
  return {
    object: "whatsapp_business_account",
    entry: [{
      id: "102290129340398",
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550783881", phone_number_id: phoneNumberId },
          ...value,
        },
      }],
    }],
  };
}

/** A distinct sender per request, so every message opens its own session and owes one reply. */
export const benchWaId = (i: number) => `2507${String(80_000_000 + i).padStart(8, "0")}`;

function messagePayload(s: PayloadSpec, i: number) {
  const wa = benchWaId(i);
  return envelope(s.phoneNumberId, {
    contacts: [{ profile: { name: `Bench ${i}` }, wa_id: wa }],
    messages: [{
      from: wa,
      id: `wamid.bench-${s.run}-${i}`,
      timestamp: String(Math.floor(Date.now() / 1000)),
      type: "text",
      text: { body: "What time is my appointment?" },
    }],
  });
}

function statusPayload(s: PayloadSpec, i: number) {
  const slots = Math.max(1, Math.floor((s.seeded ?? 10) / 10));
  const base = (i % slots) * 10;
  return envelope(s.phoneNumberId, {
    statuses: Array.from({ length: 10 }, (_, k) => ({
      id: `wamid.out-${s.run}-${base + k + 1}`,
      status: "delivered",
      timestamp: String(Math.floor(Date.now() / 1000)),
      recipient_id: "250788000000",
      pricing: { billable: true, pricing_model: "PMP", category: "utility" },
    })),
  });
}

export function buildRequest(
  s: PayloadSpec,
  i: number,
): { headers: Record<string, string>; body: string } {
  if (s.kind === "echo") {
    return {
      headers: {
        "content-type": "application/json",
        ...(s.bearer ? { authorization: `Bearer ${s.bearer}` } : {}),
      },
      body: JSON.stringify({ run: s.run, i }),
    };
  }
  if (s.kind === "post-call") {
    const body = JSON.stringify({
      call_id: `bench-${s.run}-${i}`,
      phone_number: `+25078${String(1_000_000 + (i % 8_000_000)).padStart(7, "0")}`,
      summary: "We agreed on a new monthly price of 250k. Delivery moved to Friday morning.",
    });
    return { headers: { "content-type": "application/json", apikey: s.apikey ?? "" }, body };
  }
  const body = JSON.stringify(s.kind === "wa-message" ? messagePayload(s, i) : statusPayload(s, i));
  const signature = createHmac("sha256", s.appSecret ?? "").update(body).digest("hex");
  return {
    headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${signature}` },
    body,
  };
}
