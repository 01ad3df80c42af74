import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestDatabase } from "../support/db.ts";
import {
  type FakeMtn,
  type FakeWhatsApp,
  mtnError,
  whatsappError,
} from "../support/fake-providers.ts";
import { NO_PACING, sendersFor, startTestEnv, type TestEnv } from "../support/env.ts";
import { createPostCallNotifyHandler } from "../../supabase/functions/_shared/post-call-notify/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { countSegments } from "../../supabase/functions/_shared/notifications/sms-segments.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_for_tests_0123456789";
const PUBLISHABLE_KEY = "sb_publishable_for_tests_0123456789";
const SUMMARY = "You asked to change the price to 250k. We agreed to deliver on Friday.";

let env: TestEnv;
let db: TestDatabase;
let wa: FakeWhatsApp;
let mtn: FakeMtn;
let log: ReturnType<typeof memoryLogger>;
let phoneSeq = 0;

beforeAll(async () => {
  env = await startTestEnv();
  ({ db, wa, mtn } = env);
});
afterAll(() => env?.close());
beforeEach(() => {
  env.reset();
  log = memoryLogger();
});

function handler(
  over: {
    template?: string | null;
    timeoutMs?: number;
    waitMs?: number;
    sql?: typeof db.sql;
    clock?: { sleep(ms: number): Promise<void>; now(): number };
  } = {},
) {
  const timeoutMs = over.timeoutMs ?? 2_000;
  return createPostCallNotifyHandler({
    ...over.clock,
    sql: over.sql ?? db.sql,
    logger: log,
    senders: sendersFor(env, { timeoutMs }),
    pacer: NO_PACING,
    auth: secretKeyAuth("post-call-notify", SECRET_KEY),
    defaultCountry: "RW",
    config: {
      summaryTemplate: over.template === null ? undefined : over.template ?? "call_summary",
      templateLanguage: "en",
      summaryWaitMs: over.waitMs ?? 300,
      summaryPollMs: 50,
      sendTimeoutMs: timeoutMs + 1_000,
    },
  });
}

/** A fresh caller per test: the database is shared by the file. */
function newPhone(): string {
  return `+25078${String(8_000_000 + ++phoneSeq * 37).padStart(7, "0")}`;
}

function post(body: unknown, key: string | null = SECRET_KEY, raw?: string) {
  return new Request("http://localhost/post-call-notify", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { apikey: key } : {}),
      "x-correlation-id": "corr-test-1",
    },
    body: raw ?? JSON.stringify(body),
  });
}

function rowsFor(callId: string) {
  return db.sql`
    select channel, status, provider, provider_message_id, error_code, error_class, body,
           message_type, attempts
    from public.message_delivery_log where call_id = ${callId} order by channel, attempts`;
}

async function addInboundWhatsApp(phone: string) {
  const [p] = await db.sql`
    insert into public.profiles (phone_number, has_whatsapp) values (${phone}, true)
    on conflict (phone_number) do update set has_whatsapp = true returning id`;
  await db.sql`select public.log_message_delivery(
    p_channel => 'whatsapp', p_direction => 'inbound', p_status => 'received',
    p_provider => 'whatsapp', p_provider_message_id => ${`wamid.in-${phone}`},
    p_body => 'hi', p_profile_id => ${p.id}, p_sender => ${phone})`;
}

describe("post-call-notify", () => {
  it("sends the summary on WhatsApp (template outside the window) and SMS, and logs both", async () => {
    const phone = newPhone();
    const res = await handler()(
      post({ call_id: "call-both", phone_number: phone, summary: SUMMARY }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-correlation-id")).toBe("corr-test-1");
    const out = await res.json();
    expect(out.outcome).toBe("sent");
    expect(out.summary_source).toBe("request");
    expect(out.deliveries).toHaveLength(2);
    for (const d of out.deliveries) {
      expect(d).toMatchObject({ status: "sent", provider_message_id: expect.any(String) });
    }

    const waBody = wa.requests[0].json as {
      type: string;
      to: string;
      template: { name: string; components: { parameters: { text: string }[] }[] };
    };
    expect(waBody.type).toBe("template");
    expect(waBody.to).toBe(phone.slice(1));
    expect(waBody.template.name).toBe("call_summary");
    expect(waBody.template.components[0].parameters[0].text).toContain("250k");
    const sms = mtn.sendRequests()[0].json as {
      receiverAddress: string[];
      message: string;
      senderAddress: string;
    };
    expect(sms.receiverAddress).toEqual([phone.slice(1)]);
    expect(sms.message).toContain("250k");
    expect(sms.message).not.toMatch(/[*_~]/);
    expect(countSegments(sms.message).segments).toBeLessThanOrEqual(3);

    const rows = await rowsFor("call-both");
    expect(rows.map((r) => [r.channel, r.status, r.message_type])).toEqual([
      ["sms", "sent", "text"],
      ["whatsapp", "sent", "template"],
    ]);
    expect(rows.map((r) => r.provider_message_id).sort()).toEqual(
      out.deliveries.map((d: { provider_message_id: string }) => d.provider_message_id).sort(),
    );
    const [session] = await db.sql`
      select s.status, s.call_id, s.whatsapp_summary_sent, s.sms_summary_sent, s.context, p.last_active_channel
      from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
      where s.id = ${out.session_id}`;
    expect(session).toMatchObject({
      status: "follow_up",
      call_id: "call-both",
      whatsapp_summary_sent: true,
      sms_summary_sent: true,
      last_active_channel: "whatsapp",
    });
    expect(session.context.last_call).toMatchObject({ call_id: "call-both", summary: SUMMARY });
    const events = log.lines.map((l) => l.event);
    expect(events).toEqual(
      expect.arrayContaining([
        "WHATSAPP_MESSAGE_SENT",
        "SMS_MESSAGE_SENT",
        "POST_CALL_NOTIFY_SUCCESS",
      ]),
    );
    expect(JSON.stringify(log.lines)).not.toContain(phone);
  });

  it("sends WhatsApp rich free text inside the 24-hour window", async () => {
    const phone = newPhone();
    await addInboundWhatsApp(phone);
    const out = await (await handler()(
      post({ call_id: "call-window", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(out.outcome).toBe("sent");
    const body = wa.requests[0].json as { type: string; text: { body: string } };
    expect(body.type).toBe("text");
    expect(body.text.body).toContain("*");
    expect(body.text.body).toContain("250k");
  });

  it("reads the summary the voice agent wrote to call_summaries", async () => {
    const phone = newPhone();
    await db.sql`insert into public.call_summaries (call_id, phone_number, summary)
      values ('call-db-summary', ${phone}, 'Stored summary: refund approved.')`;
    const out = await (await handler()(post({ call_id: "call-db-summary", phone_number: phone })))
      .json();
    expect(out.summary_source).toBe("database");
    expect((mtn.sendRequests()[0].json as { message: string }).message).toContain(
      "refund approved",
    );
  });

  it("still sends the SMS when WhatsApp fails, and records both outcomes", async () => {
    const phone = newPhone();
    wa.replyNext(whatsappError(131000, "Something went wrong", { status: 500 }));
    const out = await (await handler()(
      post({ call_id: "call-wa-down", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(out.outcome).toBe("partial");
    const byChannel = Object.fromEntries(
      out.deliveries.map((d: { channel: string }) => [d.channel, d]),
    );
    // A retryable failure stays in the outbox with its next attempt time (dispatch retries it).
    expect(byChannel.whatsapp).toMatchObject({
      status: "queued",
      error: { class: "retryable" },
      next_attempt_at: expect.any(String),
    });
    expect(byChannel.sms).toMatchObject({ status: "sent" });
    const rows = await rowsFor("call-wa-down");
    expect(rows.find((r) => r.channel === "whatsapp")).toMatchObject({
      status: "queued",
      error_class: "retryable",
    });
    expect(log.lines.map((l) => l.event)).toContain("WHATSAPP_MESSAGE_RETRY_SCHEDULED");
  });

  it("still sends WhatsApp when SMS fails", async () => {
    const phone = newPhone();
    mtn.replyNext(mtnError("5000", "Internal error", 503));
    const out = await (await handler()(
      post({ call_id: "call-sms-down", phone_number: phone, summary: SUMMARY }),
    )).json();
    const byChannel = Object.fromEntries(
      out.deliveries.map((d: { channel: string }) => [d.channel, d]),
    );
    expect(byChannel.sms).toMatchObject({ status: "queued", error: { class: "retryable" } });
    expect(byChannel.whatsapp).toMatchObject({ status: "sent" });
    expect(log.lines.map((l) => l.event)).toContain("SMS_MESSAGE_RETRY_SCHEDULED");
  });

  it("learns that a number is not on WhatsApp and skips WhatsApp for the next call", async () => {
    const phone = newPhone();
    wa.replyNext(whatsappError(131026, "Message undeliverable", { status: 400 }));
    await handler()(post({ call_id: "call-nowa-1", phone_number: phone, summary: SUMMARY }));
    const [profile] = await db
      .sql`select has_whatsapp from public.profiles where phone_number = ${phone}`;
    expect(profile.has_whatsapp).toBe(false);

    wa.reset();
    const out = await (await handler()(
      post({ call_id: "call-nowa-2", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(wa.requests).toHaveLength(0);
    expect(out.deliveries.find((d: { channel: string }) => d.channel === "whatsapp")).toMatchObject(
      { status: "skipped" },
    );
    expect(out.deliveries.find((d: { channel: string }) => d.channel === "sms")).toMatchObject({
      status: "sent",
    });
  });

  it("skips an opted-out SMS (logged blocked, with the text it would have carried) and judges the outcome by WhatsApp", async () => {
    const phone = newPhone();
    await db.sql`insert into public.profiles (phone_number, allows_sms) values (${phone}, false)`;
    const out = await (await handler()(
      post({ call_id: "call-optout", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(mtn.sendRequests()).toHaveLength(0);
    expect(out.outcome).toBe("sent");
    expect(out.deliveries.find((d: { channel: string }) => d.channel === "sms"))
      .toMatchObject({ status: "skipped", reason: "opted_out" });
    const rows = await rowsFor("call-optout");
    const sms = rows.find((r) => r.channel === "sms")!;
    expect(sms).toMatchObject({ status: "blocked", error_code: "SMS.OPTED_OUT" });
    expect(sms.body).toContain("250k");
    expect(log.lines.map((l) => l.event)).toContain("SMS_MESSAGE_BLOCKED");
  });

  it("sends nothing to a person who opted out of both channels: outcome skipped, both rows blocked", async () => {
    const phone = newPhone();
    await db.sql`insert into public.profiles (phone_number, allows_sms, allows_whatsapp)
      values (${phone}, false, false)`;
    const out = await (await handler()(
      post({ call_id: "call-optout-all", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(mtn.sendRequests()).toHaveLength(0);
    expect(wa.requests).toHaveLength(0);
    expect(out.outcome).toBe("skipped");
    const rows = await rowsFor("call-optout-all");
    expect(rows.find((r) => r.channel === "whatsapp"))
      .toMatchObject({ status: "blocked", error_code: "WHATSAPP.OPTED_OUT" });
    expect(rows.find((r) => r.channel === "whatsapp")!.body).toContain("250k");
  });

  it("sends a generic thank-you after the bounded wait when no summary arrives", async () => {
    const phone = newPhone();
    // A clock that moves only when the flow sleeps: the wait is measured, not timed.
    let now = 0;
    const slept: number[] = [];
    const clock = {
      now: () => now,
      sleep: (ms: number) => (slept.push(ms), now += ms, Promise.resolve()),
    };
    const out = await (await handler({ waitMs: 300, clock })(
      post({ call_id: "call-nosummary", phone_number: phone }),
    ))
      .json();
    expect(slept.reduce((a, b) => a + b, 0)).toBe(300);
    expect(slept.every((ms) => ms <= 50)).toBe(true);
    expect(out.summary_source).toBe("generic");
    expect((mtn.sendRequests()[0].json as { message: string }).message).toMatch(
      /^Thank you for your call/,
    );
    expect(log.lines.map((l) => l.event)).toContain("POST_CALL_SUMMARY_MISSING");
  });

  it("uses a summary that the voice agent writes while the function waits", async () => {
    const phone = newPhone();
    setTimeout(() => {
      void db.sql`insert into public.call_summaries (call_id, phone_number, summary)
        values ('call-late-summary', ${phone}, 'Late summary: ticket 42 closed.')`.execute();
    }, 100);
    const out = await (await handler({ waitMs: 3_000 })(
      post({ call_id: "call-late-summary", phone_number: phone }),
    )).json();
    expect(out.summary_source).toBe("database");
    expect((mtn.sendRequests()[0].json as { message: string }).message).toContain("ticket 42");
  });

  it("answers 400 naming the field for an invalid phone number, and writes nothing", async () => {
    const res = await handler()(
      post({ call_id: "call-badphone", phone_number: "12345", summary: SUMMARY }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: "VALIDATION.INVALID_PHONE",
      field: "phone_number",
    });
    expect(await rowsFor("call-badphone")).toHaveLength(0);
  });

  it("normalises a national number to E.164", async () => {
    const out = await (await handler()(
      post({ call_id: "call-national", phone_number: "0788 555 123", summary: SUMMARY }),
    )).json();
    expect(out.outcome).toBe("sent");
    const [row] = await db
      .sql`select recipient from public.message_delivery_log where call_id = 'call-national' limit 1`;
    expect(row.recipient).toBe("+250788555123");
  });

  it("rejects a missing key, a non-service key, a malformed body and a wrong method", async () => {
    const body = { call_id: "call-auth", phone_number: newPhone(), summary: SUMMARY };
    expect((await handler()(post(body, null))).status).toBe(401);
    expect((await handler()(post(body, PUBLISHABLE_KEY))).status).toBe(401);
    const malformed = await handler()(post(null, SECRET_KEY, "{not json"));
    expect(malformed.status).toBe(400);
    const missing = await handler()(post({ phone_number: newPhone() }));
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.field).toBe("call_id");
    const get = await handler()(
      new Request("http://localhost/post-call-notify", {
        headers: { apikey: SECRET_KEY },
      }),
    );
    expect(get.status).toBe(405);
    expect(wa.requests).toHaveLength(0);
    expect(await rowsFor("call-auth")).toHaveLength(0);
  });

  it("does not send again for the same call id, and answers the recorded outcome", async () => {
    const phone = newPhone();
    const first = await (await handler()(
      post({ call_id: "call-twice", phone_number: phone, summary: SUMMARY }),
    )).json();
    const second = await (await handler()(
      post({ call_id: "call-twice", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(wa.requests).toHaveLength(1);
    expect(mtn.sendRequests()).toHaveLength(1);
    expect(second.outcome).toBe("already_sent");
    expect(second.session_id).toBe(first.session_id);
    expect(
      second.deliveries.map((d: { provider_message_id: string }) => d.provider_message_id).sort(),
    )
      .toEqual(
        first.deliveries.map((d: { provider_message_id: string }) => d.provider_message_id).sort(),
      );
  });

  it("re-attempts only the channel waiting for a retry when the same call id comes again", async () => {
    const phone = newPhone();
    mtn.replyNext(mtnError("5000", "Internal error", 503));
    await handler()(post({ call_id: "call-retry", phone_number: phone, summary: SUMMARY }));
    expect(wa.requests).toHaveLength(1);
    const out = await (await handler()(
      post({ call_id: "call-retry", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(wa.requests).toHaveLength(1);
    expect(mtn.sendRequests()).toHaveLength(2);
    expect(out.outcome).toBe("sent");
    const rows = await rowsFor("call-retry");
    expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual([
      ["sms", "sent", 2],
      ["whatsapp", "sent", 1],
    ]);
  });

  it("re-attempts a channel that failed for good as a new attempt, keeping the failed one", async () => {
    const phone = newPhone();
    mtn.replyNext(mtnError("4000", "Invalid receiver address", 400));
    const first = await (await handler()(
      post({ call_id: "call-permanent", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(first.deliveries.find((d: { channel: string }) => d.channel === "sms")).toMatchObject({
      status: "failed",
      error: { class: "permanent" },
    });
    const out = await (await handler()(
      post({ call_id: "call-permanent", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(wa.requests).toHaveLength(1);
    expect(out.outcome).toBe("sent");
    const rows = await rowsFor("call-permanent");
    expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual([
      ["sms", "failed", 1],
      ["sms", "sent", 2],
      ["whatsapp", "sent", 1],
    ]);
  });

  it("sends each channel once when the same call id arrives 5 times at once", async () => {
    const phone = newPhone();
    const h = handler();
    const results = await Promise.all(
      Array.from(
        { length: 5 },
        () => h(post({ call_id: "call-concurrent", phone_number: phone, summary: SUMMARY })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(wa.requests).toHaveLength(1);
    expect(mtn.sendRequests()).toHaveLength(1);
    expect(await rowsFor("call-concurrent")).toHaveLength(2);
  });

  it("a provider timeout is unknown, not failed: the retry waits long enough for a status callback", async () => {
    const phone = newPhone();
    wa.replyNext({ status: 200, body: {}, delayMs: 1_500 });
    const out = await (await handler({ timeoutMs: 300 })(
      post({ call_id: "call-timeout", phone_number: phone, summary: SUMMARY }),
    )).json();
    const waOut = out.deliveries.find((d: { channel: string }) => d.channel === "whatsapp");
    expect(waOut).toMatchObject({
      status: "unknown",
      error: { code: "TIMEOUT", class: "retryable" },
    });
    const rows = await rowsFor("call-timeout");
    expect(rows.find((r) => r.channel === "whatsapp")).toMatchObject({
      status: "unknown",
      error_code: "TIMEOUT",
      error_class: "retryable",
    });
    // public.delivery_unknown_wait(): 5 minutes by default, far past the 15 s first backoff.
    const [due] = await db
      .sql`select next_attempt_at > now() + interval '4 minutes' as later from public.message_delivery_log
      where call_id = 'call-timeout' and channel = 'whatsapp'`;
    expect(due.later).toBe(true);
    expect(log.lines.find((l) => l.event === "WHATSAPP_MESSAGE_RETRY_SCHEDULED")).toMatchObject({
      error_code: "TIMEOUT",
    });
    expect(out.deliveries.find((d: { channel: string }) => d.channel === "sms")).toMatchObject({
      status: "sent",
    });
  });

  it("records a window-closed failure when no template is configured outside the window", async () => {
    const phone = newPhone();
    const out = await (await handler({ template: null })(
      post({ call_id: "call-notemplate", phone_number: phone, summary: SUMMARY }),
    )).json();
    expect(wa.requests).toHaveLength(0);
    expect(out.deliveries.find((d: { channel: string }) => d.channel === "whatsapp")).toMatchObject(
      {
        status: "failed",
        error: { class: "window_closed", code: "WHATSAPP.TEMPLATE_NOT_CONFIGURED" },
      },
    );
  });

  it("answers 503 when the database is unreachable, so the caller retries", async () => {
    const dead = createSql("postgres://postgres@127.0.0.1:1/postgres", { max: 1 });
    const res = await handler({ sql: dead })(
      post({ call_id: "call-nodb", phone_number: newPhone(), summary: SUMMARY }),
    );
    expect(res.status).toBe(503);
    expect(wa.requests).toHaveLength(0);
    await dead.end();
  });
});
