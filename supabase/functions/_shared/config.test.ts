import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, providerModes } from "./config.ts";

const base = { SUPABASE_DB_URL: "postgres://postgres:postgres@127.0.0.1:54322/postgres" };

describe("loadConfig", () => {
  it("applies defaults for the real providers' base URLs", () => {
    const env = loadConfig(base);
    expect(env.WHATSAPP_API_BASE_URL).toBe("https://graph.facebook.com/v21.0");
    expect(env.SMS_PROVIDER).toBe("mtn");
  });

  it("names every missing or malformed variable at once", () => {
    const err = (() => {
      try {
        loadConfig({ SMS_PROVIDER: "carrier-pigeon", WHATSAPP_API_BASE_URL: "not a url" });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const text = err.problems.join("\n");
    expect(text).toContain("SUPABASE_DB_URL");
    expect(text).toContain("SMS_PROVIDER");
    expect(text).toContain("WHATSAPP_API_BASE_URL");
  });

  it("treats an empty value as unset (FOO= in a .env file)", () => {
    const env = loadConfig({ ...base, WHATSAPP_APP_SECRET: "" });
    expect(env.WHATSAPP_APP_SECRET).toBeUndefined();
  });
});

describe("providerModes", () => {
  it("tells real, sandbox and unconfigured providers apart", () => {
    const env = loadConfig({
      ...base,
      WHATSAPP_ACCESS_TOKEN: "t",
      WHATSAPP_PHONE_NUMBER_ID: "1",
      WHATSAPP_API_BASE_URL: "http://127.0.0.1:54324/whatsapp/v21.0",
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: "AC1",
      TWILIO_AUTH_TOKEN: "x",
      TWILIO_FROM_NUMBER: "+15005550006",
    });
    expect(providerModes(env, "http://127.0.0.1:54324")).toMatchObject({
      whatsapp: "sandbox",
      sms: "real",
      openai: "unconfigured",
    });
  });
});
