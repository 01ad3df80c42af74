import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KEYWORD_REPLIES } from "../../supabase/functions/_shared/sms-inbound/keywords.ts";
import {
  type Env,
  inboundRows,
  makeHandler,
  mtnRequest,
  newPhone,
  newTwilioSid,
  outboundRows,
  profileOf,
  sendSms,
  startEnv,
  twilioInbound,
  twilioRequest,
} from "./harness.ts";

let env: Env;

beforeAll(async () => {
  env = await startEnv();
});
afterAll(() => env?.close());
beforeEach(() => {
  env.mtn.reset();
  env.twilio.reset();
});

let seq = 0;
const mtnSms = (from: string, message: string) =>
  mtnRequest({ from, message, id: `mo-kw-${++seq}` });
const smsBodies = () => env.mtn.sendRequests().map((r) => (r.json as { message: string }).message);

describe("SMS keywords over the MTN-style gateway", () => {
  it("STOP opts out and confirms once; a later send is blocked and never reaches the provider", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(phone, "Hello"));
    const res = await h.send(mtnSms(phone, " stop "));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: "recorded", keyword: "stop" });

    expect(await profileOf(env.db.sql, phone)).toMatchObject({ allows_sms: false });
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.stop]);
    expect((env.mtn.sendRequests()[0].json as { receiverAddress: string[] }).receiverAddress)
      .toEqual([phone.slice(1)]);
    const [confirmation] = await outboundRows(env.db.sql, phone);
    expect(confirmation).toMatchObject({
      status: "sent",
      purpose: "keyword_reply",
      provider: "mtn",
      body: KEYWORD_REPLIES.stop,
      provider_message_id: expect.stringMatching(/^mtn-req-/),
    });
    // The keyword is in the history, owes no AI reply, and the AI was not asked.
    const inbound = await inboundRows(env.db.sql, phone);
    expect(inbound.map((r) => [r.body, r.reply_state])).toEqual([["Hello", "pending"], [
      " stop ",
      "skipped",
    ]]);
    expect(inbound[1].metadata).toMatchObject({ keyword: "stop" });
    expect(h.replies.map((r) => r.deliveryId)).toEqual([inbound[0].id]);

    env.mtn.reset();
    const attempt = await sendSms(env, "mtn", phone, "Your order shipped");
    expect(attempt.status).toBe("blocked");
    expect(env.mtn.requests).toHaveLength(0);
    const rows = await outboundRows(env.db.sql, phone);
    expect(rows.at(-1)).toMatchObject({
      status: "blocked",
      error_code: "SMS.OPTED_OUT",
      body: "Your order shipped",
    });
  });

  it("STOP twice (and its synonyms) confirms only the first time", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(phone, "STOP"));
    await h.send(mtnSms(phone, "STOP"));
    await h.send(mtnSms(phone, "unsubscribe"));
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.stop]);
    expect((await outboundRows(env.db.sql, phone)).map((r) => r.purpose)).toEqual([
      "keyword_reply",
    ]);
    expect(await inboundRows(env.db.sql, phone)).toHaveLength(3);
    expect(h.replies).toHaveLength(0);
  });

  it("20 concurrent copies of one STOP send one confirmation", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const req = () => mtnRequest({ from: phone, message: "STOP", id: `mo-stop-burst-${phone}` });
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.handler(req())));
    await h.settled();
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.stop]);
  });

  it("START re-enables SMS and confirms; sends go out again", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(phone, "STOP"));
    await h.send(mtnSms(phone, "Start"));
    expect(await profileOf(env.db.sql, phone)).toMatchObject({ allows_sms: true });
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.stop, KEYWORD_REPLIES.start]);

    const sent = await sendSms(env, "mtn", phone, "Welcome back");
    expect(sent.status).toBe("sent");
    expect(smsBodies().at(-1)).toBe("Welcome back");
  });

  it("START from someone who never opted out changes nothing and sends nothing", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const res = await h.send(mtnSms(phone, "START"));
    expect(await res.json()).toEqual({ result: "recorded", keyword: "start" });
    expect(env.mtn.sendRequests()).toHaveLength(0);
    expect(h.replies).toHaveLength(0);
  });

  it("YES re-subscribes someone who opted out, and is an ordinary answer for everyone else", async () => {
    const optedOut = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(optedOut, "STOP"));
    await h.send(mtnSms(optedOut, "yes"));
    expect(await profileOf(env.db.sql, optedOut)).toMatchObject({ allows_sms: true });
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.stop, KEYWORD_REPLIES.start]);
    expect(h.replies).toHaveLength(0);

    env.mtn.reset();
    const subscriber = newPhone();
    const res = await h.send(mtnSms(subscriber, "Yes"));
    expect(await res.json()).toEqual({ result: "recorded" });
    const [row] = await inboundRows(env.db.sql, subscriber);
    expect(row).toMatchObject({ body: "Yes", reply_state: "pending" });
    expect(row.metadata).not.toHaveProperty("keyword");
    expect(h.replies).toEqual([
      expect.objectContaining({ deliveryId: row.id, sender: subscriber }),
    ]);
    expect(env.mtn.sendRequests()).toHaveLength(0);
  });

  it("HELP answers the help text every time, without the AI", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(phone, "HELP"));
    await h.send(mtnSms(phone, "info"));
    expect(smsBodies()).toEqual([KEYWORD_REPLIES.help, KEYWORD_REPLIES.help]);
    expect(h.replies).toHaveLength(0);
  });

  it("HELP from someone who opted out is logged as blocked and not sent", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    await h.send(mtnSms(phone, "STOP"));
    env.mtn.reset();
    await h.send(mtnSms(phone, "HELP"));
    expect(env.mtn.sendRequests()).toHaveLength(0);
    expect((await outboundRows(env.db.sql, phone)).at(-1)).toMatchObject({
      purpose: "keyword_reply",
      status: "blocked",
      error_code: "SMS.OPTED_OUT",
    });
    expect(h.log.lines.map((l) => l.event)).toContain("SMS_MESSAGE_BLOCKED");
  });

  it("logs a confirmation the gateway refused as failed, with the gateway's error", async () => {
    const phone = newPhone();
    env.mtn.replyNext({
      status: 400,
      body: { statusCode: "4000", statusMessage: "Invalid receiver" },
    });
    await makeHandler(env).send(mtnSms(phone, "STOP"));
    expect(await profileOf(env.db.sql, phone)).toMatchObject({ allows_sms: false });
    expect((await outboundRows(env.db.sql, phone))[0]).toMatchObject({
      status: "failed",
      error_code: "4000",
      error_class: "permanent",
    });
  });
});

describe("SMS keywords over Twilio", () => {
  it("STOP opts out and confirms in the TwiML answer, once; nothing goes through the REST API", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const res = await h.send(
      twilioRequest(twilioInbound(phone, "STOP", newTwilioSid(), { OptOutType: "STOP" })),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${KEYWORD_REPLIES.stop}</Message></Response>`,
    );
    expect(await profileOf(env.db.sql, phone)).toMatchObject({ allows_sms: false });
    expect((await outboundRows(env.db.sql, phone))[0]).toMatchObject({
      status: "sent",
      provider: "twilio",
      purpose: "keyword_reply",
    });

    const again = await h.send(twilioRequest(twilioInbound(phone, "stop", newTwilioSid())));
    expect(await again.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(env.twilio.requests).toHaveLength(0);

    const attempt = await sendSms(env, "twilio", phone, "A promotion");
    expect(attempt.status).toBe("blocked");
    expect(env.twilio.requests).toHaveLength(0);
  });

  it("HELP answers inline; a redelivered HELP answers nothing more", async () => {
    const phone = newPhone();
    const h = makeHandler(env);
    const params = twilioInbound(phone, "help", newTwilioSid());
    expect(await (await h.send(twilioRequest(params))).text()).toContain(
      `<Message>${KEYWORD_REPLIES.help}</Message>`,
    );
    expect(await (await h.send(twilioRequest(params))).text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    );
    expect(await outboundRows(env.db.sql, phone)).toHaveLength(1);
    expect(env.mtn.sendRequests()).toHaveLength(0);
  });
});
