/**
 * email-inbound end to end on a real database, with Resend and the model faked at the HTTP
 * boundary: signed webhooks (forged, stale and replayed ones refused with nothing written), an
 * inbound reply with a quoted thread recorded once with only its new text and answered by the AI
 * in the same thread, and delivery events (statuses forward only, bounce, complaint).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeResend, startFakeResend } from "../support/fake-providers.ts";
import { completion, type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";
import { NO_PACING } from "../support/env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { createResendAdapter } from "../../supabase/functions/_shared/channels/email-resend.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { createEmailInboundHandler } from "../../supabase/functions/_shared/email-inbound/handler.ts";
import { signResendWebhook } from "../../supabase/functions/_shared/email-inbound/verify.ts";
import { createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import {
  replyPending,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { sendEmail } from "../../supabase/functions/_shared/outbound/send-email.ts";

const SECRET = "whsec_" + btoa("email-inbound-test-secret");

let db: TestDatabase;
let resend: FakeResend;
let openai: FakeOpenAI;

beforeAll(async () => {
  [db, resend, openai] = await Promise.all([
    createTestDatabase(),
    startFakeResend(),
    startFakeOpenAI({ otherwise: () => completion("Tuesday at 10 is booked for you.") }),
  ]);
});
afterAll(() => Promise.all([db?.close(), resend?.close(), openai?.close()]));
beforeEach(() => {
  resend.reset();
  openai.reset();
});

function harness(opts: { reply?: boolean } = {}) {
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    RESEND_API_BASE_URL: resend.baseUrl,
    RESEND_API_KEY: resend.apiKey,
    EMAIL_FROM: "Acme Support <support@acme.test>",
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_API_KEY: "sk-test",
  });
  const log = memoryLogger();
  const background = backgroundTracker((err) => log.error("BACKGROUND", { error: String(err) }));
  const outbound = {
    sql: db.sql,
    logger: log,
    senders: createSenderDirectory(env, { timeoutMs: 5_000 }),
    pacer: NO_PACING,
  };
  const agent = createAgent(outbound, {
    apiKey: env.OPENAI_API_KEY,
    baseUrl: env.OPENAI_BASE_URL,
    model: "gpt-4o-mini",
  });
  const handler = createEmailInboundHandler({
    ...outbound,
    email: createResendAdapter({
      baseUrl: env.RESEND_API_BASE_URL,
      apiKey: env.RESEND_API_KEY,
      from: env.EMAIL_FROM,
    }),
    webhookSecret: SECRET,
    waitUntil: background.waitUntil,
    onInbound: async (inbound) => {
      if (opts.reply !== false) await replyToInbound({ ...outbound, agent }, inbound);
    },
  });
  const post = async (req: Request) => {
    const res = await handler(req);
    await background.settled();
    return res;
  };
  return { post, outbound, agent, log };
}

let n = 0;
const svixId = () => `msg_${Date.now()}_${++n}`;

function webhook(
  payload: unknown,
  opts: { id?: string; at?: Date; secret?: string; body?: string } = {},
) {
  const body = opts.body ?? JSON.stringify(payload);
  const headers = signResendWebhook(
    opts.secret ?? SECRET,
    opts.id ?? svixId(),
    opts.at ?? new Date(),
    body,
  );
  return new Request("http://functions.test/email-inbound", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const received = (emailId: string, from: string, subject = "Re: Your appointment") => ({
  type: "email.received",
  created_at: new Date().toISOString(),
  data: {
    email_id: emailId,
    created_at: new Date().toISOString(),
    from,
    to: ["support@acme.test"],
    message_id: `<${emailId}@mail.example.com>`,
    subject,
    attachments: [],
  },
});

const QUOTED_REPLY = [
  "Could we move it to Tuesday at 10?",
  "",
  "Thanks,",
  "Ada",
  "",
  "On Mon, 30 Nov 2026 at 09:00, Acme Support <support@acme.test> wrote:",
  "> Your appointment is on Monday at 9.",
  "> Reply to this email if you need anything.",
].join("\n");

async function rowsFrom(address: string) {
  return await db.sql<
    { id: string; body: string; direction: string; metadata: Record<string, unknown> }[]
  >`
    select m.id, m.body, m.direction, m.metadata from public.message_delivery_log m
    join public.profile_identities i on i.profile_id = m.profile_id and i.kind = 'email'
    where i.value = ${address} order by m.created_at`;
}

const countAll = async () =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from public.message_delivery_log`)[0].n;

describe("email-inbound: signatures", () => {
  it("refuses forged, stale and replayed webhooks with nothing written", async () => {
    const { post } = harness();
    const address = "forger-target@example.com";
    const payload = received("in-forged", address);
    resend.inbox.set("in-forged", { id: "in-forged", from: address, to: [], text: "hi" });
    const before = await countAll();

    const forged = await post(webhook(payload, { secret: "whsec_" + btoa("not our secret") }));
    expect(forged.status).toBe(401);
    const tampered = webhook(payload);
    const altered = new Request(tampered.url, {
      method: "POST",
      headers: tampered.headers,
      body: JSON.stringify({ ...payload, data: { ...payload.data, from: "evil@example.com" } }),
    });
    expect((await post(altered)).status).toBe(401);
    const stale = await post(webhook(payload, { at: new Date(Date.now() - 6 * 60_000) }));
    expect(stale.status).toBe(401);
    const unsigned = await post(
      new Request("http://functions.test/email-inbound", {
        method: "POST",
        body: JSON.stringify(payload),
      }),
    );
    expect(unsigned.status).toBe(401);
    expect(await countAll()).toBe(before);
    expect(resend.requests).toHaveLength(0);

    const id = svixId();
    const first = await post(webhook(received("in-replayed", "replayed@example.com"), { id }));
    expect(first.status).toBe(200); // its content is unknown to Resend: answered, ignored
    const after = await countAll();
    const replay = await post(webhook(received("in-replayed-2", "replayed@example.com"), { id }));
    expect(replay.status).toBe(409);
    expect(await countAll()).toBe(after);
  });

  it("fails closed without a secret", async () => {
    const h = createEmailInboundHandler({
      ...harness().outbound,
      email: createResendAdapter({ baseUrl: resend.baseUrl }),
      waitUntil: () => {},
      onInbound: () => Promise.resolve(),
    });
    const res = await h(webhook(received("x", "x@example.com")));
    expect(res.status).toBe(401);
  });
});

describe("email-inbound: a reply with a quoted thread", () => {
  it("records one row with only the new text and answers in the same thread; a redelivery adds nothing", async () => {
    const { post } = harness();
    const address = "ada@example.com";
    resend.inbox.set("in-1", {
      id: "in-1",
      from: "Ada Lovelace <Ada@Example.com>",
      to: ["support@acme.test"],
      subject: "Re: Your appointment",
      text: QUOTED_REPLY,
      html: null,
      message_id: "<in-1@mail.example.com>",
      headers: { references: "<first@acme.test>" },
      attachments: [{ id: "a1", filename: "calendar.ics", content_type: "text/calendar" }],
    });
    const event = received("in-1", "Ada Lovelace <Ada@Example.com>");

    const res = await post(webhook(event));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "recorded" });

    const rows = await rowsFrom(address);
    const inbound = rows.filter((r) => r.direction === "inbound");
    expect(inbound).toHaveLength(1);
    expect(inbound[0].body).toBe("Could we move it to Tuesday at 10?\n\nThanks,\nAda");
    expect(inbound[0].metadata).toMatchObject({
      subject: "Re: Your appointment",
      attachments: [{ filename: "calendar.ics", content_type: "text/calendar" }],
    });

    // The AI read the new text only, and its answer went back in the thread.
    const asked = JSON.stringify(openai.requests.at(-1)?.messages);
    expect(asked).toContain("Could we move it to Tuesday at 10?");
    expect(asked).not.toContain("Your appointment is on Monday at 9.");
    const [sent] = resend.sendRequests();
    expect(sent.path).toBe("/emails");
    expect(sent.json).toMatchObject({
      from: "Acme Support <support@acme.test>",
      to: ["ada@example.com"],
      subject: "Re: Your appointment",
      text: "Tuesday at 10 is booked for you.",
      html: "<p>Tuesday at 10 is booked for you.</p>",
      headers: {
        "In-Reply-To": "<in-1@mail.example.com>",
        References: "<first@acme.test> <in-1@mail.example.com>",
      },
    });
    expect(sent.headers["idempotency-key"]).toBe(`ai_reply:${inbound[0].id}`);
    const outbound = (await rowsFrom(address)).filter((r) => r.direction === "outbound");
    expect(outbound).toHaveLength(1);

    // The same event delivered again (a new svix-id, as Resend's retries have): nothing new.
    const again = await post(webhook(event));
    expect(await again.json()).toEqual({ result: "duplicate" });
    expect(await rowsFrom(address)).toHaveLength(2);
    expect(resend.sendRequests()).toHaveLength(1);
  });

  it("a new address gets a profile and continues that person's live session", async () => {
    const { post } = harness();
    resend.inbox.set("in-2", { id: "in-2", from: "grace@example.com", to: [], text: "Hello?" });
    resend.inbox.set("in-3", { id: "in-3", from: "grace@example.com", to: [], text: "Anyone?" });
    await post(webhook(received("in-2", "grace@example.com", "Question")));
    await post(webhook(received("in-3", "grace@example.com", "Question")));
    const sessions = await db.sql<{ session_id: string }[]>`
      select distinct m.session_id from public.message_delivery_log m
      join public.profile_identities i on i.profile_id = m.profile_id
      where i.kind = 'email' and i.value = 'grace@example.com'`;
    expect(sessions).toHaveLength(1);
  });
});

describe("email-inbound: a reply owed after a crash", () => {
  it("dispatch's recovery answers an email left pending, once, in its thread", async () => {
    // The webhook's 200 went out, then the process died before the AI reply was written.
    const { post, outbound, agent } = harness({ reply: false });
    resend.inbox.set("in-crash", {
      id: "in-crash",
      from: "lin@example.com",
      to: ["support@acme.test"],
      subject: "Opening hours",
      text: "Are you open on Saturday?",
      message_id: "<in-crash@mail.example.com>",
    });
    expect((await post(webhook(received("in-crash", "lin@example.com", "Opening hours")))).status)
      .toBe(200);
    expect(resend.sendRequests()).toHaveLength(0);

    const deps = { ...outbound, agent };
    const results = await Promise.all([
      replyPending(deps, { olderThanSeconds: 0, limit: 50 }),
      replyPending(deps, { olderThanSeconds: 0, limit: 50 }),
    ]);
    expect(results.reduce((sum, r) => sum + r.replied, 0)).toBeGreaterThanOrEqual(1);
    const sent = resend.sendRequests().filter((r) =>
      JSON.stringify((r.json as { to?: unknown }).to) === JSON.stringify(["lin@example.com"])
    );
    expect(sent).toHaveLength(1);
    expect(sent[0].json).toMatchObject({
      subject: "Re: Opening hours",
      headers: { "In-Reply-To": "<in-crash@mail.example.com>" },
    });
    const rows = await rowsFrom("lin@example.com");
    expect(rows.map((r) => r.direction)).toEqual(["inbound", "outbound"]);
  });
});

describe("email-inbound: delivery events", () => {
  async function sentEmail(to: string) {
    const { outbound } = harness();
    return await sendEmail(outbound, {
      to,
      subject: "Hello",
      text: "Hello there",
      purpose: "tool",
      correlationId: `corr-${to}`,
    });
  }
  const event = (type: string, emailId: string, to: string, extra = {}) => ({
    type,
    created_at: new Date().toISOString(),
    data: { email_id: emailId, created_at: new Date().toISOString(), to: [to], ...extra },
  });
  const statusOf = async (id: string) =>
    (await db.sql<{ status: string; error_code: string | null }[]>`
      select status, error_code from public.message_delivery_log where id = ${id}`)[0];

  it("moves statuses forward only: delivered, then opened; a late 'sent' changes nothing", async () => {
    const { post } = harness();
    const sent = await sentEmail("status@example.com");
    const id = sent.providerMessageId!;
    await post(webhook(event("email.delivered", id, "status@example.com")));
    await post(webhook(event("email.opened", id, "status@example.com")));
    await post(webhook(event("email.sent", id, "status@example.com")));
    expect(await statusOf(sent.deliveryId)).toEqual({ status: "read", error_code: null });
  });

  it("a hard bounce fails the row and no further email goes to that address", async () => {
    const { post } = harness();
    const sent = await sentEmail("gone@example.com");
    const res = await post(
      webhook(event("email.bounced", sent.providerMessageId!, "gone@example.com", {
        bounce: { type: "Permanent", subType: "General", message: "Mailbox does not exist" },
      })),
    );
    expect(res.status).toBe(200);
    expect(await statusOf(sent.deliveryId)).toEqual({
      status: "failed",
      error_code: "EMAIL.BOUNCED",
    });

    resend.reset();
    const next = await sentEmail("Gone@Example.com");
    expect(next).toMatchObject({ status: "blocked", error: { code: "EMAIL.UNDELIVERABLE" } });
    expect(resend.requests).toHaveLength(0);
  });

  it("a bounce whose text holds NUL or a lone surrogate is recorded, not a 500", async () => {
    const { post } = harness();
    const sent = await sentEmail("odd-bounce@example.com");
    const res = await post(
      webhook(event("email.bounced", sent.providerMessageId!, "odd-bounce@example.com", {
        bounce: {
          type: "Permanent\u0000",
          subType: "Gen\ud800eral",
          message: "No\u0000 such user",
        },
      })),
    );
    expect(res.status).toBe(200);
    expect(await statusOf(sent.deliveryId)).toEqual({
      status: "failed",
      error_code: "EMAIL.BOUNCED",
    });
  });

  it("a complaint opts the person out of email", async () => {
    const { post } = harness();
    const sent = await sentEmail("annoyed@example.com");
    await post(webhook(event("email.complained", sent.providerMessageId!, "annoyed@example.com")));
    const [profile] = await db.sql<{ allows_email: boolean }[]>`
      select p.allows_email from public.profiles p
      join public.profile_identities i on i.profile_id = p.id
      where i.kind = 'email' and i.value = 'annoyed@example.com'`;
    expect(profile.allows_email).toBe(false);
    resend.reset();
    const next = await sentEmail("annoyed@example.com");
    expect(next).toMatchObject({ status: "blocked", error: { code: "EMAIL.OPTED_OUT" } });
    expect(resend.requests).toHaveLength(0);
  });

  it("an unknown event type is answered 200 and ignored", async () => {
    const { post } = harness();
    const res = await post(webhook({ type: "contact.created", data: {} }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "ignored" });
  });
});
