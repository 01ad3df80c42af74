import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, sentWhatsApp, startHarness } from "./harness.ts";
import { replyToInbound } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { WHATSAPP_KEYWORD_REPLIES } from "../../supabase/functions/_shared/conversations/whatsapp-opt-out.ts";
import { sendMessage } from "../../supabase/functions/_shared/outbound/send-message.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

async function write(phone: string, text: string) {
  const r = await h.receive("whatsapp", phone, text);
  const msg = {
    deliveryId: r.deliveryId,
    sessionId: r.sessionId,
    channel: "whatsapp" as const,
    sender: phone,
    correlationId: `corr-${r.deliveryId}`,
  };
  return await replyToInbound(h.replyDeps(), msg);
}

async function allowsWhatsApp(phone: string) {
  const [row] = await h.db
    .sql`select allows_whatsapp from public.profiles where phone_number = ${phone}`;
  return row.allows_whatsapp;
}

describe("opt-out on WhatsApp", () => {
  it("STOP is not answered by the AI: the person is unsubscribed and told how to come back", async () => {
    const phone = h.newPhone();
    expect(await write(phone, "Stop.")).toBe("keyword");
    expect(h.openai.requests).toHaveLength(0);
    expect(await allowsWhatsApp(phone)).toBe(false);
    expect(sentWhatsApp(h)).toEqual([
      expect.objectContaining({
        to: phone.slice(1),
        text: expect.objectContaining({ body: WHATSAPP_KEYWORD_REPLIES.stop }),
      }),
    ]);
    expect(WHATSAPP_KEYWORD_REPLIES.stop).toContain("START");
  });

  it("after STOP, nothing proactive goes out on WhatsApp (blocked, with its text), SMS still does", async () => {
    const phone = h.newPhone();
    await write(phone, "STOP");
    h.reset();
    const deps = h.replyDeps();
    const wa = await sendMessage(deps, {
      channel: "whatsapp",
      to: phone,
      body: "Your order shipped",
      purpose: "tool",
      correlationId: "c1",
    });
    expect(wa).toMatchObject({ status: "blocked", error: { code: "WHATSAPP.OPTED_OUT" } });
    expect(sentWhatsApp(h)).toHaveLength(0);
    const [row] = await h.db
      .sql`select status, body, error_code from public.message_delivery_log where id = ${wa.deliveryId}`;
    expect(row).toEqual({
      status: "blocked",
      body: "Your order shipped",
      error_code: "WHATSAPP.OPTED_OUT",
    });
    const sms = await sendMessage(deps, {
      channel: "sms",
      to: phone,
      body: "Your order shipped",
      purpose: "tool",
      correlationId: "c2",
    });
    expect(sms.status).toBe("sent");
    expect(sentSms(h)).toHaveLength(1);
  });

  it("a message from a person who opted out gets no AI answer; START subscribes again, once", async () => {
    const phone = h.newPhone();
    await write(phone, "STOP");
    h.reset();
    expect(await write(phone, "where is my order?")).toBe("opted_out");
    expect(h.openai.requests).toHaveLength(0);
    expect(sentWhatsApp(h)).toHaveLength(0);
    expect(await write(phone, "START")).toBe("keyword");
    expect(await write(phone, "start")).toBe("keyword");
    expect(await allowsWhatsApp(phone)).toBe(true);
    expect(sentWhatsApp(h).map((m) => (m as { text: { body: string } }).text.body))
      .toEqual([WHATSAPP_KEYWORD_REPLIES.start]);
  });

  it("'yes' is an ordinary message for a subscriber: the AI answers it", async () => {
    const phone = h.newPhone();
    expect(await write(phone, "yes")).toBe("replied");
    expect(await allowsWhatsApp(phone)).toBe(true);
  });
});
