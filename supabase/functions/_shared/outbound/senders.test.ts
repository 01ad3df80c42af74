import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeMtn,
  type FakeTwilio,
  startFakeMtn,
  startFakeTwilio,
} from "../../../../tests/support/fake-providers.ts";
import { loadConfig } from "../config.ts";
import { createSenderDirectory, type OutboxRow } from "./senders.ts";

let mtn: FakeMtn;
let twilio: FakeTwilio;
beforeAll(async () => {
  [mtn, twilio] = await Promise.all([startFakeMtn(), startFakeTwilio()]);
});
afterAll(() => Promise.all([mtn.close(), twilio.close()]));

const env = (vars: Record<string, string>) =>
  loadConfig({ SUPABASE_DB_URL: "postgres://localhost/db", ...vars });

const sms = (to: string): OutboxRow => ({
  id: crypto.randomUUID(),
  channel: "sms",
  recipient: to,
  body: "hi",
  message_type: "text",
  metadata: null,
  sender_key: null,
});

const bothConfigured = (provider: string) =>
  env({
    TWILIO_FROM_NUMBER: "+15005550006",
    SMS_PROVIDER: provider,
    MTN_SMS_API_BASE_URL: mtn.baseUrl,
    MTN_SMS_API_KEY: mtn.apiKey,
    MTN_SMS_API_SECRET: mtn.apiSecret,
    MTN_SMS_SENDER_ID: mtn.senderId,
    TWILIO_API_BASE_URL: twilio.baseUrl,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
  });

describe("createSenderDirectory: SMS", () => {
  it("SMS_PROVIDER=mtn: messages nobody asked for go through the MTN-style gateway", async () => {
    const sender = createSenderDirectory(bothConfigured("mtn")).resolve("sms")!;
    expect(sender).toMatchObject({ key: `sms:mtn:${mtn.senderId}`, provider: "mtn" });
    expect((await sender.send(sms("+250788123456"))).ok).toBe(true);
    expect(mtn.sendRequests()).toHaveLength(1);
  });

  it("SMS_PROVIDER=twilio: through Twilio; the other provider still answers its own replies", async () => {
    const senders = createSenderDirectory(bothConfigured("twilio"));
    const sender = senders.resolve("sms")!;
    expect(sender).toMatchObject({ key: "sms:twilio:+15005550006", provider: "twilio" });
    expect((await sender.send(sms("+250788123456"))).ok).toBe(true);
    expect(twilio.requests).toHaveLength(1);
    expect(senders.replyKey("mtn", "4040")).toBe(`sms:mtn:${mtn.senderId}`);
    expect(senders.replyKey("twilio", "+15005550777")).toBe("sms:twilio:+15005550777");
    expect(senders.resolve("sms", senders.replyKey("mtn"))).toMatchObject({ provider: "mtn" });
  });

  it("fails closed when the chosen provider has no credentials", async () => {
    const sender = createSenderDirectory(env({ SMS_PROVIDER: "mtn", MTN_SMS_API_KEY: "k" }))
      .resolve("sms")!;
    const result = await sender.send(sms("+250788123456"));
    expect(result).toMatchObject({
      ok: false,
      provider: "mtn",
      error: { code: "CHANNEL.NOT_CONFIGURED" },
    });
  });
});
