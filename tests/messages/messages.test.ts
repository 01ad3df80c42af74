/**
 * The `messages` function (issue 14): POST /messages with `auto` routing and fallback down the
 * route, idempotency under concurrency, the per-caller quota, GET one and GET a page. Providers
 * are the WhatsApp and MTN fakes; the request goes through the handler as a client sends it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { whatsappError } from "../support/fake-providers.ts";
import { messagesHandler } from "./handler.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { dispatchDue } from "../../supabase/functions/_shared/outbound/dispatch.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";

const KEY = "sb_secret_messages_tests_0123456789";
const TEMPLATE = { name: "service_update", language: "en" };

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

function handler() {
  return messagesHandler(h, KEY, { whatsappTemplate: TEMPLATE, waitUntil: background.waitUntil });
}

function request(method: string, path = "", body?: unknown, key: string | null = KEY) {
  return new Request(`http://localhost/messages${path}`, {
    method,
    headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function send(body: Record<string, unknown>, fn = handler()) {
  const res = await fn(request("POST", "", { idempotency_key: crypto.randomUUID(), ...body }));
  const json = await res.json();
  await background.settled();
  return { status: res.status, json };
}

async function getMessage(id: string) {
  const res = await handler()(request("GET", `/${id}`));
  expect(res.status).toBe(200);
  return await res.json();
}

function dispatch() {
  return dispatchDue(h.senders(), {
    batchSize: 50,
    leaseSeconds: 60,
    timeBudgetMs: 5_000,
    correlationId: "test-dispatch",
  });
}

const waTypes = () => h.wa.requests.map((r) => (r.json as { type: string }).type);

describe("POST /messages: auto routing", () => {
  it("inside the WhatsApp window sends free text on WhatsApp", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "hello");
    h.reset();
    const { status, json } = await send({ to: { phone }, text: "Your order shipped" });
    expect(status).toBe(202);
    expect(json).toMatchObject({ status: "accepted", route: ["whatsapp", "sms"] });
    expect(h.wa.requests.map((r) => r.json)).toEqual([
      expect.objectContaining({ to: phone.slice(1), type: "text", text: expect.anything() }),
    ]);
    expect(sentSms(h)).toEqual([]);
    const message = await getMessage(json.id);
    expect(message).toMatchObject({ channel: "whatsapp", status: "sent" });
    expect(message.steps[0].history.map((s: { status: string }) => s.status)).toEqual([
      "queued",
      "sent",
    ]);
  });

  it("outside the window sends the approved template on WhatsApp", async () => {
    const { json } = await send({ to: { phone: h.newPhone() }, text: "Your order shipped" });
    expect(waTypes()).toEqual(["template"]);
    expect(h.wa.requests[0].json).toMatchObject({
      template: {
        name: TEMPLATE.name,
        components: [{ parameters: [{ text: "Your order shipped" }] }],
      },
    });
    expect((await getMessage(json.id)).status).toBe("sent");
  });

  it("a person not on WhatsApp gets SMS", async () => {
    const phone = h.newPhone();
    await h.db
      .sql`insert into public.profiles (phone_number, has_whatsapp) values (${phone}, false)`;
    const { json } = await send({ to: { phone }, text: "Your order shipped" });
    expect(json.route).toEqual(["sms"]);
    expect(json.skipped).toContainEqual(
      expect.objectContaining({ channel: "whatsapp", code: "WHATSAPP.NOT_ON_CHANNEL" }),
    );
    expect(h.wa.requests).toEqual([]);
    expect(sentSms(h).map((s) => s.message)).toEqual(["Your order shipped"]);
  });

  it("not on WhatsApp and opted out of SMS: the next channels are tried, each refusal named", async () => {
    const phone = h.newPhone();
    await h.db.sql`insert into public.profiles (phone_number, has_whatsapp, allows_sms)
                   values (${phone}, false, false)`;
    const { status, json } = await send({ to: { phone }, text: "Your order shipped" });
    expect(status).toBe(422);
    expect(json.error.code).toBe("MESSAGE.NO_ROUTE");
    expect(json.error.skipped.map((s: { channel: string; code: string }) => [s.channel, s.code]))
      .toEqual([
        ["whatsapp", "WHATSAPP.NOT_ON_CHANNEL"],
        ["sms", "SMS.OPTED_OUT"],
        // Email, Messenger and Instagram are configured, but this person has no address there.
        ["email", "RECIPIENT.NO_ADDRESS"],
        ["messenger", "RECIPIENT.NO_ADDRESS"],
        ["instagram", "RECIPIENT.NO_ADDRESS"],
      ]);
    expect(h.wa.requests).toEqual([]);
    expect(sentSms(h)).toEqual([]);
  });

  it("the person's last active channel goes first", async () => {
    const phone = h.newPhone();
    await h.db.sql`insert into public.profiles (phone_number, last_active_channel)
                   values (${phone}, 'sms')`;
    const { json } = await send({ to: { phone }, text: "Hi" });
    expect(json.route).toEqual(["sms", "whatsapp"]);
    expect(sentSms(h)).toHaveLength(1);
    expect(h.wa.requests).toEqual([]);
  });
});

describe("POST /messages: fallback", () => {
  it("a permanent failure falls back to the next channel exactly once, and dispatch sends nothing again", async () => {
    h.wa.replyNext(whatsappError(131026, "Message undeliverable"));
    const { json } = await send({ to: { phone: h.newPhone() }, text: "Your order shipped" });
    expect(h.wa.requests).toHaveLength(1);
    expect(sentSms(h)).toHaveLength(1);
    await dispatch();
    expect(h.wa.requests).toHaveLength(1);
    expect(sentSms(h)).toHaveLength(1);
    const message = await getMessage(json.id);
    expect(message).toMatchObject({ channel: "sms", status: "sent" });
    expect(message.steps.map((s: { channel: string; status: string }) => [s.channel, s.status]))
      .toEqual([["whatsapp", "failed"], ["sms", "sent"]]);
    expect(message.steps[0].error.code).toBe("131026");
  });

  it("a failure reported later by the provider's status queues the next step once, for dispatch", async () => {
    const { json } = await send({ to: { phone: h.newPhone() }, text: "Your order shipped" });
    const { steps } = await getMessage(json.id);
    for (let i = 0; i < 2; i++) {
      await h.db.sql`select public.record_delivery_status(
        p_channel => 'whatsapp', p_provider_message_id => ${steps[0].provider_message_id},
        p_status => 'failed', p_error_code => '131026', p_error_class => 'permanent')`;
    }
    await dispatch();
    await dispatch();
    expect(sentSms(h)).toHaveLength(1);
    const message = await getMessage(json.id);
    expect(message.steps.map((s: { channel: string; status: string }) => [s.channel, s.status]))
      .toEqual([["whatsapp", "failed"], ["sms", "sent"]]);
  });

  it("when the last channel fails too the message is failed, with every step recorded", async () => {
    h.wa.replyNext(whatsappError(131026, "Message undeliverable"));
    h.mtn.replyNext({ status: 400, body: { statusCode: "4001", statusMessage: "Invalid number" } });
    const { json } = await send({ to: { phone: h.newPhone() }, text: "x" });
    const message = await getMessage(json.id);
    expect(message.status).toBe("failed");
    expect(message.steps).toHaveLength(2);
  });
});

describe("POST /messages: idempotency", () => {
  it("20 concurrent identical requests make one message and one send, and all get its id", async () => {
    const body = {
      to: { phone: h.newPhone() },
      text: "once",
      idempotency_key: crypto.randomUUID(),
    };
    const fn = handler();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => fn(request("POST", "", body))),
    );
    await background.settled();
    const answers = await Promise.all(responses.map((r) => r.json()));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(h.wa.requests).toHaveLength(1);
    const [{ n }] = await h.db.sql`select count(*)::int as n from public.message_delivery_log
                                  where api_message_id = ${answers[0].id}`;
    expect(n).toBe(1);
  });

  it("a repeat answers the first answer; the same key with another body is 409", async () => {
    const key = crypto.randomUUID();
    const phone = h.newPhone();
    const first = await send({ to: { phone }, text: "a", idempotency_key: key });
    const again = await send({ idempotency_key: key, text: "a", to: { phone } });
    expect(again).toEqual(first);
    const other = await send({ to: { phone }, text: "b", idempotency_key: key });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe("IDEMPOTENCY.KEY_REUSED");
    expect(h.wa.requests).toHaveLength(1);
  });
});

describe("the messages API", () => {
  it("send_at schedules: nothing is sent before it, and the outbox holds it", async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const { status, json } = await send({
      to: { phone: h.newPhone() },
      text: "later",
      send_at: at,
    });
    expect(status).toBe(202);
    expect(json).toMatchObject({ status: "scheduled", send_at: at });
    await dispatch();
    expect(h.wa.requests).toEqual([]);
    const [row] = await h.db.sql`select status, next_attempt_at from public.message_delivery_log
                                 where api_message_id = ${json.id}`;
    expect(row.status).toBe("queued");
    expect(new Date(row.next_attempt_at).toISOString()).toBe(at);
  });

  it("a caller past its quota gets 429 with Retry-After, counted in the database", async () => {
    // The quota is the caller's: a key of its own name (an ERP's), counted apart from the others.
    const key = `sb_secret_quota_${crypto.randomUUID().replaceAll("-", "")}`;
    const auth = authOf(
      "messages",
      loadConfig({
        SUPABASE_DB_URL: "postgres://unused@127.0.0.1/postgres",
        SUPABASE_SECRET_KEYS: JSON.stringify({ [`erp-${crypto.randomUUID()}`]: key }),
      }),
    );
    const limited = messagesHandler(h, key, {
      auth,
      ratePerMinute: 2,
      readsPerMinute: 3,
      waitUntil: background.waitUntil,
    });
    const page = () => limited(request("GET", "?limit=1", undefined, key));
    const sendOne = () =>
      limited(request("POST", "", {
        to: { phone: h.newPhone() },
        text: "quota",
        idempotency_key: crypto.randomUUID(),
      }, key));
    // Reads do not use up sends: three pages, then both sends still go.
    for (let i = 0; i < 3; i++) expect((await page()).status).toBe(200);
    expect((await sendOne()).status).toBe(202);
    expect((await sendOne()).status).toBe(202);
    const sends = await sendOne();
    expect(sends.status).toBe(429);
    expect(Number(sends.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await sends.json()).error).toMatchObject({
      code: "API.RATE_LIMITED",
      message: "More than 2 sends in a minute; retry later",
    });
    const reads = await page();
    expect(reads.status).toBe(429);
    expect(Number(reads.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await reads.json()).error.code).toBe("API.RATE_LIMITED");
    // Counted in Postgres, one row per caller and kind.
    const rows = await h.db.sql`select caller, used from public.api_caller_quotas
                                where caller like 'secret:erp-%' order by caller`;
    expect(rows.map((r) => r.used)).toEqual([3, 4]);
  });

  it("refuses a request without a key, and a body that is not a message", async () => {
    expect((await handler()(request("POST", "", { text: "x" }, null))).status).toBe(401);
    const bad = await send({
      to: { phone: h.newPhone() },
      text: "x",
      template: { name: "a", locale: "en" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION.INVALID_BODY");
  });

  it("GET /messages pages by cursor, filtered by person, channel and status", async () => {
    const phone = h.newPhone();
    const ids: string[] = [];
    for (const text of ["one", "two", "three"]) {
      ids.push((await send({ to: { phone }, text })).json.id);
    }
    const profileId = (await getMessage(ids[0])).profile_id;
    const list = async (query: string) => {
      const res = await handler()(request("GET", `?profile_id=${profileId}&${query}`));
      expect(res.status).toBe(200);
      return await res.json();
    };
    const first = await list("limit=2");
    expect(first.messages.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);
    const second = await list(`limit=2&cursor=${first.next_cursor}`);
    expect(second.messages.map((m: { id: string }) => m.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect((await list("channel=sms")).messages).toEqual([]);
    expect((await list("channel=whatsapp&status=sent")).messages).toHaveLength(3);
    const tooMany = await handler()(request("GET", "?limit=1000"));
    expect(tooMany.status).toBe(400);
  });

  it("GET /messages/{id} of an unknown id is 404", async () => {
    const res = await handler()(request("GET", `/${crypto.randomUUID()}`));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("MESSAGE.NOT_FOUND");
  });
});
