import { describe, expect, it } from "vitest";
import {
  type Channel,
  fillPlaceholders,
  planRoute,
  type Recipient,
  type Template,
} from "./route.ts";

const person = (over: Partial<Recipient> = {}): Recipient => ({
  profileId: "p1",
  addresses: { phone: "+250788000001", email: "ada@example.com" },
  hasWhatsapp: null,
  allowsWhatsapp: true,
  allowsSms: true,
  lastActiveChannel: null,
  whatsappWindowOpen: false,
  ...over,
});

const route = (
  recipient: Recipient,
  opts: { senders?: Channel[]; channel?: "auto" | Channel | Channel[]; templates?: Template[] } =
    {},
) =>
  planRoute({
    recipient,
    channel: opts.channel ?? "auto",
    content: opts.templates
      ? { kind: "template", name: "order_shipped", locale: "en", params: ["A-17"] }
      : { kind: "text", text: "Your order shipped" },
    hasSender: (c) => (opts.senders ?? ["whatsapp", "sms", "email"]).includes(c),
    template: (c) => opts.templates?.find((t) => t.channel === c) ?? null,
    whatsappTextTemplate: { name: "service_update", language: "en" },
  });

const template = (channel: string, status = "approved"): Template => ({
  channel,
  name: "order_shipped",
  locale: "en",
  status,
  bodyText: "Order {{1}} is on its way",
  subject: null,
  paramCount: 1,
});

describe("planRoute", () => {
  it("opted out of SMS and not on WhatsApp, with an email address: email, once its sender is registered", () => {
    const { steps, skipped } = route(person({ hasWhatsapp: false, allowsSms: false }));
    expect(steps.map((s) => [s.channel, s.recipient])).toEqual([["email", "ada@example.com"]]);
    expect(skipped.map((s) => s.code)).toEqual([
      "WHATSAPP.NOT_ON_CHANNEL",
      "SMS.OPTED_OUT",
      "CHANNEL.NOT_CONFIGURED",
      "CHANNEL.NOT_CONFIGURED",
    ]);
  });

  it("an email carries a subject the email sender sends: its template's, else the text's first line", () => {
    const text = route(person(), { channel: "email" }).steps[0];
    expect(text.metadata).toMatchObject({ email: { subject: "Your order shipped" } });
    const templated = route(person(), {
      channel: "email",
      templates: [{ ...template("email"), subject: "Order {{1}}" }],
    }).steps[0];
    expect(templated).toMatchObject({
      body: "Order A-17 is on its way",
      metadata: { email: { subject: "Order A-17" } },
    });
  });

  it("WhatsApp inside the window is free text, outside it the template carrying the text", () => {
    const inside = route(person({ whatsappWindowOpen: true })).steps[0];
    expect(inside).toMatchObject({ channel: "whatsapp", message_type: "text" });
    const outside = route(person()).steps[0];
    expect(outside).toMatchObject({
      channel: "whatsapp",
      message_type: "template",
      metadata: { template: { name: "service_update", bodyParameters: ["Your order shipped"] } },
    });
  });

  it("a named list keeps its order and drops what cannot go", () => {
    const { steps, skipped } = route(person({ addresses: { phone: "+250788000001" } }), {
      channel: ["email", "sms"],
    });
    expect(steps.map((s) => s.channel)).toEqual(["sms"]);
    expect(skipped).toEqual([
      expect.objectContaining({ channel: "email", code: "RECIPIENT.NO_ADDRESS" }),
    ]);
  });

  it("a paused WhatsApp template is refused naming its status; SMS renders its own template", () => {
    const { steps, skipped } = route(person(), {
      templates: [template("whatsapp", "paused"), template("sms")],
    });
    expect(skipped[0]).toMatchObject({
      channel: "whatsapp",
      code: "TEMPLATE.NOT_APPROVED",
      reason: expect.stringContaining("paused"),
    });
    expect(steps[0]).toMatchObject({ channel: "sms", body: "Order A-17 is on its way" });
  });

  it("parameters must match the template's placeholders", () => {
    const t = { ...template("whatsapp"), bodyText: "{{1}} and {{2}}", paramCount: 2 };
    const { steps, skipped } = route(person(), { templates: [t], channel: "whatsapp" });
    expect(steps).toEqual([]);
    expect(skipped[0].code).toBe("TEMPLATE.PARAMS_MISMATCH");
  });

  it("fills {{n}} placeholders in order", () => {
    expect(fillPlaceholders("Hi {{1}}, order {{ 2 }}", ["Ada", "A-17"])).toBe("Hi Ada, order A-17");
  });
});
