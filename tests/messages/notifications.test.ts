/**
 * POST /messages/notifications/{event} (issue 14): notification kinds from the database turn an
 * event's payload into a template message per channel and locale; `call.ended` is the post-call
 * summary, through the same use-case as post-call-notify.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { messagesHandler } from "./handler.ts";

const KEY = "sb_secret_notifications_tests_0123456789";

let h: Harness;
let background: ReturnType<typeof backgroundTracker>;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(async () => {
  h.reset();
  background = backgroundTracker((err) => console.error(err));
  h.wa.templates.push({
    id: "1",
    name: "order_shipped",
    language: "en",
    status: "APPROVED",
    category: "UTILITY",
    components: [{ type: "BODY", text: "Your order {{1}} has shipped. Track it: {{2}}" }],
  });
  await call("POST", "/templates/sync");
  h.reset();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await messagesHandler(h, KEY, { waitUntil: background.waitUntil })(
    new Request(`http://localhost/messages${path}`, {
      method,
      headers: { apikey: KEY, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const json = await res.json();
  await background.settled();
  return { status: res.status, json };
}

describe("POST /messages/notifications/{event}", () => {
  it("order.shipped sends its template filled from the payload, once per key", async () => {
    const request = {
      to: { phone: h.newPhone() },
      data: { order_id: "A-17", tracking_url: "https://t.example/A-17" },
      idempotency_key: "A-17-shipped",
    };
    const first = await call("POST", "/notifications/order.shipped", request);
    expect(first.status).toBe(202);
    expect(first.json.route).toEqual(["whatsapp", "sms"]);
    const again = await call("POST", "/notifications/order.shipped", request);
    expect(again.json).toEqual(first.json);
    expect(h.wa.requests.map((r) => r.json)).toEqual([
      expect.objectContaining({
        type: "template",
        template: expect.objectContaining({
          name: "order_shipped",
          components: [{
            type: "body",
            parameters: [{ type: "text", text: "A-17" }, {
              type: "text",
              text: "https://t.example/A-17",
            }],
          }],
        }),
      }),
    ]);
    const message = await call("GET", `/${first.json.id}`);
    expect(message.json.metadata).toEqual({ event: "order.shipped" });
  });

  it("a payload without a field the template needs is 400 naming it; an unknown event 404", async () => {
    const missing = await call("POST", "/notifications/order.shipped", {
      to: { phone: h.newPhone() },
      data: { order_id: "A-18" },
      idempotency_key: crypto.randomUUID(),
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error.field).toBe("data.tracking_url");
    const unknown = await call("POST", "/notifications/order.lost", {
      to: { phone: h.newPhone() },
      idempotency_key: crypto.randomUUID(),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOTIFICATION.UNKNOWN_EVENT");
    expect(h.wa.requests).toEqual([]);
  });

  it("a kind an operator adds in SQL is served at once, on its channels and locale", async () => {
    await h.db
      .sql`insert into public.message_templates (channel, name, locale, body_text, param_count)
      values ('sms', 'appointment_reminder', 'fr', 'Rappel : rendez-vous le {{1}}', 1)`;
    await h.db
      .sql`insert into public.notification_kinds (event, description, template_name, default_locale, channels, params)
      values ('appointment.reminder', 'A reminder the day before', 'appointment_reminder', 'fr', '"sms"', '{date}')`;
    const { status } = await call("POST", "/notifications/appointment.reminder", {
      to: { phone: h.newPhone() },
      data: { date: "2 décembre à 10 h" },
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(202);
    expect(sentSms(h).map((s) => s.message)).toEqual(["Rappel : rendez-vous le 2 décembre à 10 h"]);
  });

  it("call.ended is the post-call summary: WhatsApp and SMS, once per call", async () => {
    const phone = h.newPhone();
    const request = {
      to: { phone },
      data: {
        call_id: `call-${crypto.randomUUID()}`,
        summary: "Your refund of 250k was approved.",
      },
      idempotency_key: crypto.randomUUID(),
    };
    const first = await call("POST", "/notifications/call.ended", request);
    expect(first.status).toBe(200);
    expect(first.json.outcome).toBe("sent");
    expect(first.json.deliveries.map((d: { channel: string }) => d.channel).sort()).toEqual([
      "sms",
      "whatsapp",
    ]);
    const again = await call("POST", "/notifications/call.ended", request);
    expect(again.json.outcome).toBe("already_sent");
    expect(h.wa.requests).toHaveLength(1);
    expect(sentSms(h)).toHaveLength(1);
  });
});
