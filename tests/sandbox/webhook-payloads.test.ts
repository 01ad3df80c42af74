import { describe, expect, it } from "vitest";
import {
  mtnInbound,
  twilioInbound,
  whatsappInbound,
} from "../../scripts/sandbox/inbound-payloads.ts";
import type { SandboxMessage } from "../../scripts/sandbox/messages.ts";
import {
  mtnReceipt,
  twilioCallbackPath,
  twilioStatus,
  whatsappStatus,
} from "../../scripts/sandbox/status-payloads.ts";
import { type Webhook, webhookHeaders, type WebhookTarget } from "../../scripts/sandbox/webhook.ts";
import { SANDBOX_CREDENTIALS } from "../../scripts/stack/sandbox-env.ts";
import { verifyHexSha256 } from "../../supabase/functions/_shared/http/signature.ts";
import {
  parseMtnInbound,
  parseMtnReceipt,
} from "../../supabase/functions/_shared/sms-inbound/mtn.ts";
import {
  parseForm,
  parseTwilioInbound,
  parseTwilioStatus,
} from "../../supabase/functions/_shared/sms-inbound/twilio.ts";
import { verifyTwilioSignature } from "../../supabase/functions/_shared/sms-inbound/twilio-signature.ts";
import { parseWhatsAppWebhook } from "../../supabase/functions/_shared/wa-webhook/parse-webhook.ts";
import { twilioSignature as nodeTwilioSignature } from "../sms-inbound/signing.ts";

/**
 * What the sandbox sends is what the functions accept: each payload, signed by the sandbox,
 * passes the functions' own signature checks and parsers (the code the webhooks run).
 */

const c = { ...SANDBOX_CREDENTIALS };
const target: WebhookTarget = {
  functionsUrl: "http://127.0.0.1:1/functions/v1",
  // A tunnel in front: Twilio signs the public URL, not the one the sandbox posts to.
  publicFunctionsUrl: "https://demo.example.org/functions/v1",
  credentials: c,
};
const now = new Date("2026-11-22T10:00:00Z");
const raw = (w: Webhook) => new TextEncoder().encode(w.body);
const person = { from: "+250788123456", text: "change the price to 250k", name: "Aline", now };

function sent(provider: string, extra: Partial<SandboxMessage> = {}): SandboxMessage {
  return {
    id: "id-1",
    provider,
    channel: provider === "whatsapp" ? "whatsapp" : "sms",
    to: "+250788123456",
    from: "OMNI",
    body: "Done: I've updated the price to 250k.",
    request_body: "{}",
    headers: {},
    received_at: now.toISOString(),
    ...extra,
  };
}

describe("inbound webhooks", () => {
  it("WhatsApp: a signed messages webhook that wa-webhook reads as one text from the person", async () => {
    const w = whatsappInbound(person, c);
    const headers = await webhookHeaders(w, target);
    expect(w.path).toBe("/wa-webhook");
    expect(await verifyHexSha256(c.whatsappAppSecret, headers["x-hub-signature-256"], raw(w))).toBe(
      true,
    );
    expect(await verifyHexSha256("another-secret", headers["x-hub-signature-256"], raw(w))).toBe(
      false,
    );

    const parsed = parseWhatsAppWebhook(JSON.parse(w.body), "corr-1");
    expect(parsed.isWhatsApp).toBe(true);
    if (!parsed.isWhatsApp) return;
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({
      kind: "message",
      message: {
        channel: "whatsapp",
        sender: "+250788123456",
        providerMessageId: w.providerMessageId,
        messageType: "text",
        body: "change the price to 250k",
        whatsappJid: "250788123456",
        displayName: "Aline",
        needsReply: true,
        metadata: {
          sent_at: now.toISOString(),
          business: { phone_number_id: c.whatsappPhoneNumberId },
        },
      },
    });
    expect(w.providerMessageId).toMatch(/^wamid\./);
  });

  it("MTN: JSON {from, to, message, id} with X-MTN-Signature", async () => {
    const w = mtnInbound(person);
    const headers = await webhookHeaders(w, target);
    expect(w.path).toBe("/sms-inbound");
    expect(headers["content-type"]).toBe("application/json");
    expect(
      await verifyHexSha256(c.mtnWebhookSecret, headers["x-mtn-signature"], raw(w), {
        prefixOptional: true,
      }),
    )
      .toBe(true);
    const sms = await parseMtnInbound(raw(w));
    expect(sms).toMatchObject({
      provider: "mtn",
      providerMessageId: w.providerMessageId,
      from: "250788123456",
      body: "change the price to 250k",
    });
  });

  it("Twilio: a form signed over PUBLIC_FUNCTIONS_URL + /sms-inbound, as Twilio's SDKs compute it", async () => {
    const w = twilioInbound(person, c);
    const headers = await webhookHeaders(w, target);
    const signature = headers["x-twilio-signature"];
    const params = parseForm(raw(w));
    const signedUrl = `${target.publicFunctionsUrl}/sms-inbound`;
    expect(await verifyTwilioSignature(c.twilioAuthToken, signature, signedUrl, params)).toBe(true);
    expect(
      await verifyTwilioSignature(
        c.twilioAuthToken,
        signature,
        `${target.functionsUrl}/sms-inbound`,
        params,
      ),
    )
      .toBe(false);
    expect(signature).toBe(nodeTwilioSignature(signedUrl, params, c.twilioAuthToken));
    expect(parseTwilioInbound(params)).toMatchObject({
      provider: "twilio",
      providerMessageId: w.providerMessageId,
      from: "+250788123456",
      body: "change the price to 250k",
      metadata: { to: c.twilioFromNumber, account_sid: c.twilioAccountSid, num_segments: "1" },
    });
  });
});

describe("status callbacks", () => {
  it("WhatsApp: statuses sent, delivered and read for the wamid, signed", async () => {
    const message = sent("whatsapp", { id: "wamid.ABC", to: "250788123456" });
    for (const status of ["sent", "delivered", "read"] as const) {
      const w = whatsappStatus(message, status, now, c);
      const headers = await webhookHeaders(w, target);
      expect(await verifyHexSha256(c.whatsappAppSecret, headers["x-hub-signature-256"], raw(w)))
        .toBe(true);
      const parsed = parseWhatsAppWebhook(JSON.parse(w.body), "corr");
      expect(parsed.isWhatsApp && parsed.events).toEqual([{
        kind: "status",
        update: expect.objectContaining({
          channel: "whatsapp",
          providerMessageId: "wamid.ABC",
          status,
          metadata: expect.objectContaining({ [`whatsapp_${status}_at`]: now.toISOString() }),
        }),
      }]);
    }
  });

  it("MTN: a DeliveredToTerminal receipt for the requestId, at /sms-inbound/status", async () => {
    const message = sent("mtn", {
      id: "req-42",
      request_body: JSON.stringify({ clientCorrelatorId: "corr-9", requestDeliveryReceipt: true }),
    });
    const w = mtnReceipt(message, now);
    const headers = await webhookHeaders(w, target);
    expect(w.path).toBe("/sms-inbound/status");
    expect(
      await verifyHexSha256(c.mtnWebhookSecret, headers["x-mtn-signature"], raw(w), {
        prefixOptional: true,
      }),
    )
      .toBe(true);
    expect(JSON.parse(w.body)).toMatchObject({
      clientCorrelatorId: "corr-9",
      receiverAddress: "250788123456",
    });
    expect(parseMtnReceipt(raw(w))).toEqual({
      provider: "mtn",
      providerMessageIds: ["req-42"],
      providerStatus: "DeliveredToTerminal",
      status: "delivered",
    });
  });

  it("Twilio: MessageStatus sent then delivered, signed over the callback's public URL", async () => {
    const message = sent("twilio", { id: "SM0123", from: c.twilioFromNumber });
    for (const status of ["sent", "delivered"] as const) {
      const w = twilioStatus(message, status, "/sms-inbound/status", c);
      const headers = await webhookHeaders(w, target);
      const params = parseForm(raw(w));
      expect(
        await verifyTwilioSignature(
          c.twilioAuthToken,
          headers["x-twilio-signature"],
          `${target.publicFunctionsUrl}/sms-inbound/status`,
          params,
        ),
      ).toBe(true);
      expect(parseTwilioStatus(params)).toMatchObject({ providerMessageIds: ["SM0123"], status });
    }
  });

  it("Twilio: posts to the message's StatusCallback when it points at these functions", () => {
    const withCallback = (url: string) =>
      sent("twilio", { request_body: new URLSearchParams({ StatusCallback: url }).toString() });
    expect(twilioCallbackPath(sent("twilio"), target.publicFunctionsUrl)).toBe(
      "/sms-inbound/status",
    );
    expect(
      twilioCallbackPath(
        withCallback(`${target.publicFunctionsUrl}/sms-inbound/status/twilio`),
        target.publicFunctionsUrl,
      ),
    )
      .toBe("/sms-inbound/status/twilio");
    expect(
      twilioCallbackPath(withCallback("https://elsewhere.example/cb"), target.publicFunctionsUrl),
    ).toBeNull();
  });
});
