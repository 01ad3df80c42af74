import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDotenv } from "../../scripts/stack/dotenv.ts";
import { functionEnv } from "../../scripts/stack/function-env.ts";
import { readFunctionSettings } from "../../scripts/stack/functions-config.ts";
import { realProviders, withSandboxProviders } from "../../scripts/stack/sandbox-env.ts";
import { loadConfig, providerModes } from "../../supabase/functions/_shared/config.ts";

const SANDBOX = "http://127.0.0.1:54324";
const keys = { anon: "anon-key", serviceRole: "service-key" };
const apiKeys = {
  publishable: "sb_publishable_x",
  secret: "sb_secret_x",
  publishableKeys: '{"default":"sb_publishable_x"}',
  secretKeys: '{"default":"sb_secret_x"}',
  jwks: '{"keys":[]}',
};

function stackEnv(
  processEnv: Record<string, string>,
  dotenv: Record<string, string> = {},
  legacyKeys = true,
) {
  return functionEnv({
    processEnv,
    dotenv,
    apiUrl: "http://127.0.0.1:54321",
    dbUrl: "postgresql://postgres:postgres@127.0.0.1:54322/postgres",
    sandboxUrl: SANDBOX,
    jwtSecret: "secret",
    keys,
    apiKeys,
    legacyKeys,
  });
}

describe("function environment", () => {
  it("keeps every provider on the sandbox when .env.example is copied unchanged", () => {
    const example = parseDotenv(readFileSync("supabase/functions/.env.example", "utf8"));
    const env = stackEnv({}, example);
    expect(providerModes(loadConfig(env), env.LOCAL_SANDBOX_URL)).toEqual({
      whatsapp: "sandbox",
      sms: "sandbox",
      openai: "sandbox",
      meta: "sandbox",
      genesys: "sandbox",
      email: "sandbox",
    });
  });

  it("points every provider without credentials at the sandbox", () => {
    const env = stackEnv({});
    expect(env.WHATSAPP_API_BASE_URL).toBe(`${SANDBOX}/whatsapp/v21.0`);
    expect(env.MTN_SMS_API_BASE_URL).toBe(`${SANDBOX}/mtn`);
    expect(env.TWILIO_API_BASE_URL).toBe(`${SANDBOX}/twilio`);
    expect(env.OPENAI_BASE_URL).toBe(`${SANDBOX}/openai/v1`);
    expect(env.GENESYS_API_BASE_URL).toBe(`${SANDBOX}/genesys`);
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.SMS_PROVIDER).toBe("mtn");
    expect(env.PUBLIC_FUNCTIONS_URL).toBe("http://127.0.0.1:54321/functions/v1");
    expect(providerModes(loadConfig(env), env.LOCAL_SANDBOX_URL)).toEqual({
      whatsapp: "sandbox",
      sms: "sandbox",
      openai: "sandbox",
      meta: "sandbox",
      genesys: "sandbox",
      email: "sandbox",
    });
  });

  it("leaves a provider with real credentials alone, and reports it as real", () => {
    const shell = { WHATSAPP_ACCESS_TOKEN: "EAAG-real", WHATSAPP_PHONE_NUMBER_ID: "123" };
    const env = stackEnv(shell);
    expect(env.WHATSAPP_API_BASE_URL).toBeUndefined();
    expect(env.WHATSAPP_ACCESS_TOKEN).toBe("EAAG-real");
    expect(providerModes(loadConfig(env), env.LOCAL_SANDBOX_URL).whatsapp).toBe("real");
    expect(providerModes(loadConfig(env), env.LOCAL_SANDBOX_URL).sms).toBe("sandbox");
    expect(realProviders(shell)).toEqual(["whatsapp"]);
  });

  it("keeps a base URL the user pointed elsewhere", () => {
    const env = withSandboxProviders(
      { WHATSAPP_API_BASE_URL: "http://127.0.0.1:9999/v21.0" },
      SANDBOX,
    );
    expect(env.WHATSAPP_API_BASE_URL).toBe("http://127.0.0.1:9999/v21.0");
    expect(env.WHATSAPP_ACCESS_TOKEN).toBe("sandbox-whatsapp-token");
  });

  it("lets the shell override the .env file, and always sets the SUPABASE_ values itself", () => {
    const env = stackEnv(
      { SMS_PROVIDER: "twilio", SUPABASE_URL: "http://elsewhere" },
      { SMS_PROVIDER: "mtn", OPENAI_MODEL: "gpt-test" },
    );
    expect(env.SMS_PROVIDER).toBe("twilio");
    expect(env.OPENAI_MODEL).toBe("gpt-test");
    expect(env.SUPABASE_URL).toBe("http://127.0.0.1:54321");
    expect(env.SUPABASE_SERVICE_ROLE_KEY).toBe("service-key");
    expect(env.SUPABASE_SECRET_KEYS).toBe('{"default":"sb_secret_x"}');
    expect(env.SUPABASE_PUBLISHABLE_KEYS).toBe('{"default":"sb_publishable_x"}');
    expect(env.SUPABASE_JWKS).toBe('{"keys":[]}');
  });

  it("gives the functions no legacy key, and tells them to reject one, once legacy keys are off", () => {
    const env = stackEnv({ SUPABASE_SERVICE_ROLE_KEY: "from-the-shell" }, {}, false);
    expect(env.SUPABASE_ANON_KEY).toBeUndefined();
    expect(env.SUPABASE_JWT_SECRET).toBeUndefined();
    expect(env.LEGACY_API_KEYS).toBe("reject");
    expect(env.SUPABASE_SECRET_KEYS).toBe('{"default":"sb_secret_x"}');
  });
});

describe("parseDotenv", () => {
  it("reads comments, export, quotes and inline comments", () => {
    const text = [
      "# a comment",
      "export A=1",
      "B = two words # trailing",
      "C='literal # not a comment \\n'",
      'D="line\\nbreak \\"quoted\\""',
      "EMPTY=",
      "not a line",
      "E=x#y",
    ].join("\n");
    expect(parseDotenv(text)).toEqual({
      A: "1",
      B: "two words",
      C: "literal # not a comment \\n",
      D: 'line\nbreak "quoted"',
      EMPTY: "",
      E: "x#y",
    });
  });
});

describe("readFunctionSettings", () => {
  it("reads verify_jwt per function, defaulting to true", () => {
    const settings = readFunctionSettings(
      "[functions.health]\nverify_jwt = false\n[functions.dispatch]\nverify_jwt = true\n",
    );
    expect(settings("health").verifyJwt).toBe(false);
    expect(settings("dispatch").verifyJwt).toBe(true);
    expect(settings("unlisted").verifyJwt).toBe(true);
  });
});
