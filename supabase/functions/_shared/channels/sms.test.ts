import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeMtn,
  type FakeTwilio,
  startFakeMtn,
  startFakeTwilio,
} from "../../../../tests/support/fake-providers.ts";
import { loadConfig } from "../config.ts";
import { createSmsAdapter } from "./sms.ts";

let mtn: FakeMtn;
let twilio: FakeTwilio;
beforeAll(async () => {
  [mtn, twilio] = await Promise.all([startFakeMtn(), startFakeTwilio()]);
});
afterAll(() => Promise.all([mtn.close(), twilio.close()]));

const env = (vars: Record<string, string>) =>
  loadConfig({ SUPABASE_DB_URL: "postgres://localhost/db", ...vars });

describe("createSmsAdapter", () => {
  it("uses the MTN-style gateway when SMS_PROVIDER=mtn", async () => {
    const sms = createSmsAdapter(env({
      SMS_PROVIDER: "mtn",
      MTN_SMS_API_BASE_URL: mtn.baseUrl,
      MTN_SMS_API_KEY: mtn.apiKey,
      MTN_SMS_API_SECRET: mtn.apiSecret,
      MTN_SMS_SENDER_ID: mtn.senderId,
    }));
    expect(sms.provider).toBe("mtn");
    expect((await sms.send("+250788123456", "hi")).ok).toBe(true);
    expect(mtn.sendRequests()).toHaveLength(1);
  });

  it("uses Twilio when SMS_PROVIDER=twilio", async () => {
    const sms = createSmsAdapter(env({
      SMS_PROVIDER: "twilio",
      TWILIO_API_BASE_URL: twilio.baseUrl,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM_NUMBER: "+15005550006",
    }));
    expect(sms.provider).toBe("twilio");
    expect((await sms.send("+250788123456", "hi")).ok).toBe(true);
    expect(twilio.requests).toHaveLength(1);
  });

  it("fails closed when the chosen provider has no credentials", async () => {
    const sms = createSmsAdapter(env({ SMS_PROVIDER: "mtn", MTN_SMS_API_KEY: "k" }));
    const result = await sms.send("+250788123456", "hi");
    expect(result).toMatchObject({ ok: false, provider: "mtn", error: { code: "NOT_CONFIGURED" } });
  });
});
