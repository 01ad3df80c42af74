/**
 * Templates in the messaging API (issue 14): WhatsApp templates synced from Meta's
 * `GET /{waba-id}/message_templates` (the fake speaks its paged format), a send with a template
 * that is not approved, or with the wrong parameters, refused before any HTTP call; per-channel
 * renditions; and people addressed by any identity (public.profile_identities).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { messagesHandler } from "./handler.ts";

const KEY = "sb_secret_templates_tests_0123456789";

let h: Harness;
let background: ReturnType<typeof backgroundTracker>;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => {
  h.reset();
  background = backgroundTracker((err) => console.error(err));
});

const metaTemplate = (name: string, status: string, body: string, language = "en") => ({
  id: `tmpl-${name}-${language}`,
  name,
  language,
  status,
  category: "UTILITY",
  components: [{ type: "HEADER", format: "TEXT", text: "Update" }, { type: "BODY", text: body }],
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

async function sync(templates: Record<string, unknown>[]) {
  h.wa.templates.splice(0, h.wa.templates.length, ...templates);
  const res = await call("POST", "/templates/sync");
  expect(res.status).toBe(200);
  return res.json;
}

const whatsappPosts = () => h.wa.requests.filter((r) => r.method === "POST");

describe("WhatsApp template sync", () => {
  it("stores every template Meta lists, page after page, with its status and parameter count", async () => {
    const many = Array.from(
      { length: 120 },
      (_, i) => metaTemplate(`bulk_${i}`, "APPROVED", "Hi {{1}}"),
    );
    const result = await sync([
      metaTemplate("order_shipped", "APPROVED", "Order {{1}} shipped, track it at {{2}}"),
      metaTemplate("order_delayed", "PAUSED", "Order {{1}} is late"),
      ...many,
    ]);
    expect(result).toEqual({ synced: 122, removed: 0 });
    expect(h.wa.requests.filter((r) => r.method === "GET")).toHaveLength(2);
    const [row] = await h.db
      .sql`select status, category, param_count, body_text, provider_template_id
      from public.message_templates where channel = 'whatsapp' and name = 'order_shipped'`;
    expect(row).toEqual({
      status: "approved",
      category: "utility",
      param_count: 2,
      body_text: "Order {{1}} shipped, track it at {{2}}",
      provider_template_id: "tmpl-order_shipped-en",
    });
    const list = await call("GET", "/templates?channel=whatsapp&name=order_delayed");
    expect(list.json.templates).toEqual([expect.objectContaining({ status: "paused" })]);
  });

  it("a template Meta no longer lists becomes deleted; a failed listing changes nothing", async () => {
    await sync([
      metaTemplate("spring_sale", "APPROVED", "Sale!"),
      metaTemplate("keep", "APPROVED", "x"),
    ]);
    expect(await sync([metaTemplate("keep", "APPROVED", "x")])).toEqual({ synced: 1, removed: 1 });
    h.wa.replyNext({ status: 500, body: { error: { message: "boom", code: 1 } } });
    const failed = await call("POST", "/templates/sync");
    expect(failed.status).toBe(502);
    expect(failed.json.error.code).toBe("TEMPLATES.SYNC_FAILED");
    const rows = await h.db.sql`select name, status from public.message_templates
      where name in ('spring_sale', 'keep') order by name`;
    expect(rows).toEqual([{ name: "keep", status: "approved" }, {
      name: "spring_sale",
      status: "deleted",
    }]);
  });
});

describe("POST /messages with a template", () => {
  beforeEach(async () => {
    await sync([
      metaTemplate("order_shipped", "APPROVED", "Order {{1}} shipped, track it at {{2}}"),
      metaTemplate("order_delayed", "PAUSED", "Order {{1}} is late"),
    ]);
    h.reset();
  });

  it("an approved template goes out as the template, with its parameters", async () => {
    const { status } = await call("POST", "", {
      to: { phone: h.newPhone() },
      channel: "whatsapp",
      template: { name: "order_shipped", locale: "en", params: ["A-17", "https://t.example/A-17"] },
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(202);
    expect(whatsappPosts().map((r) => r.json)).toEqual([
      expect.objectContaining({
        type: "template",
        template: {
          name: "order_shipped",
          language: { code: "en" },
          components: [{
            type: "body",
            parameters: [{ type: "text", text: "A-17" }, {
              type: "text",
              text: "https://t.example/A-17",
            }],
          }],
        },
      }),
    ]);
  });

  it("a paused template is refused before any HTTP call, naming its status", async () => {
    const { status, json } = await call("POST", "", {
      to: { phone: h.newPhone() },
      channel: "whatsapp",
      template: { name: "order_delayed", locale: "en", params: ["A-17"] },
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(422);
    expect(json.error.code).toBe("TEMPLATE.NOT_APPROVED");
    expect(json.error.message).toContain("paused");
    expect(h.wa.requests).toEqual([]);
  });

  it("parameters that do not match the placeholders are refused before any HTTP call", async () => {
    const { status, json } = await call("POST", "", {
      to: { phone: h.newPhone() },
      channel: "whatsapp",
      template: { name: "order_shipped", locale: "en", params: ["A-17"] },
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(422);
    expect(json.error).toMatchObject({
      code: "TEMPLATE.PARAMS_MISMATCH",
      message: expect.stringContaining("takes 2 parameters, 1 given"),
    });
    expect(h.wa.requests).toEqual([]);
  });

  it("auto: a person not on WhatsApp gets the SMS rendition of the same template", async () => {
    // The SMS rendition is one of the defaults (20261130144000_notification_kinds.sql).
    const phone = h.newPhone();
    await h.db
      .sql`insert into public.profiles (phone_number, has_whatsapp) values (${phone}, false)`;
    const { status, json } = await call("POST", "", {
      to: { phone },
      template: { name: "order_shipped", locale: "en", params: ["A-17", "https://t.example/A-17"] },
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(202);
    expect(json.route).toEqual(["sms"]);
    expect(sentSms(h).map((s) => s.message)).toEqual([
      "Your order A-17 has shipped. Track it: https://t.example/A-17",
    ]);
  });
});

describe("POST /messages addressed by any identity", () => {
  it("an email address finds the person, who is reached on the channels they have", async () => {
    const phone = h.newPhone();
    const email = `ada.${crypto.randomUUID().slice(0, 8)}@example.com`;
    await h.db
      .sql`select public.link_identity(public.resolve_profile('phone', ${phone}), 'email', ${email})`;
    const { status, json } = await call("POST", "", {
      to: { email: email.toUpperCase() },
      text: "Your order shipped",
      idempotency_key: crypto.randomUUID(),
    });
    expect(status).toBe(202);
    // No WhatsApp template is configured in this file: outside the window, SMS it is, and
    // their address is the fallback (the text's first line as its subject).
    expect(json.route).toEqual(["sms", "email"]);
    expect(json.skipped.map((s: { channel: string; code: string }) => [s.channel, s.code]))
      .toEqual(expect.arrayContaining([["whatsapp", "WHATSAPP.WINDOW_CLOSED"]]));
    expect(sentSms(h).map((s) => s.message)).toEqual(["Your order shipped"]);
  });
});
