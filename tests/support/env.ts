/**
 * The test environment in one place: a migrated database and the provider fakes, the channel
 * adapters pointed at those fakes, and the same settings as environment variables for the code
 * that reads them (loadConfig). Every harness builds on this instead of wiring its own copy.
 */
import { createMtnSmsAdapter } from "../../supabase/functions/_shared/channels/sms-mtn.ts";
import { createTwilioSmsAdapter } from "../../supabase/functions/_shared/channels/sms-twilio.ts";
import { createWhatsAppAdapter } from "../../supabase/functions/_shared/channels/whatsapp.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import type { Pacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import {
  type FakeMtn,
  type FakeTwilio,
  type FakeWhatsApp,
  startFakeMtn,
  startFakeTwilio,
  startFakeWhatsApp,
} from "./fake-providers.ts";

/** Port 9 (discard) on loopback: nothing answers, for an adapter a test must never reach. */
const NOWHERE = "http://127.0.0.1:9";
const TIMEOUT = { timeoutMs: 2_000 };

export interface TestEnv {
  db: TestDatabase;
  wa: FakeWhatsApp;
  mtn: FakeMtn;
  /** Started only when asked for (`startTestEnv({ twilio })`). */
  twilio?: FakeTwilio;
  /** Empties the fakes' recorded requests and scripted replies. */
  reset(): void;
  close(): Promise<void>;
}

export async function startTestEnv(
  opts: { twilio?: { authToken: string } } = {},
): Promise<TestEnv> {
  const [db, wa, mtn, twilio] = await Promise.all([
    createTestDatabase(),
    startFakeWhatsApp(),
    startFakeMtn(),
    opts.twilio ? startFakeTwilio(opts.twilio) : undefined,
  ]);
  return {
    db,
    wa,
    mtn,
    twilio,
    reset() {
      wa.reset();
      mtn.reset();
      twilio?.reset();
    },
    close: async () => {
      await Promise.all([db.close(), wa.close(), mtn.close(), twilio?.close()]);
    },
  };
}

/** The WhatsApp adapter on the fake (or on nothing, when the test never sends WhatsApp). */
export function whatsAppAdapterFor(wa: FakeWhatsApp | undefined, opts = TIMEOUT) {
  return createWhatsAppAdapter(
    {
      baseUrl: wa?.baseUrl ?? `${NOWHERE}/v21.0`,
      accessToken: wa?.accessToken,
      phoneNumberId: wa?.phoneNumberId,
    },
    opts,
  );
}

export function mtnAdapterFor(mtn: FakeMtn | undefined, opts = TIMEOUT) {
  return createMtnSmsAdapter(
    {
      baseUrl: mtn?.baseUrl ?? NOWHERE,
      apiKey: mtn?.apiKey,
      apiSecret: mtn?.apiSecret,
      senderId: mtn?.senderId,
    },
    opts,
  );
}

export function twilioAdapterFor(
  twilio: FakeTwilio,
  auth: { authToken: string; from: string },
  opts = TIMEOUT,
) {
  return createTwilioSmsAdapter(
    { baseUrl: twilio.baseUrl, accountSid: twilio.accountSid, ...auth },
    opts,
  );
}

/** The environment variables the functions read (loadConfig), pointed at the env's fakes. */
export function envVars(env: Pick<TestEnv, "db" | "wa" | "mtn">): Record<string, string> {
  return {
    SUPABASE_DB_URL: env.db.url,
    WHATSAPP_API_BASE_URL: env.wa.baseUrl,
    WHATSAPP_ACCESS_TOKEN: env.wa.accessToken,
    WHATSAPP_PHONE_NUMBER_ID: env.wa.phoneNumberId,
    MTN_SMS_API_BASE_URL: env.mtn.baseUrl,
    MTN_SMS_API_KEY: env.mtn.apiKey,
    MTN_SMS_API_SECRET: env.mtn.apiSecret,
    MTN_SMS_SENDER_ID: env.mtn.senderId,
  };
}

/**
 * The senders every send path uses, built from the environment as the functions build them,
 * pointed at the env's fakes (Twilio too when started); `vars` overrides any setting.
 */
export function sendersFor(
  env: { db: TestDatabase; wa?: FakeWhatsApp; mtn?: FakeMtn; twilio?: FakeTwilio },
  opts: { timeoutMs?: number; fetch?: typeof fetch; vars?: Record<string, string> } = {},
) {
  const twilio = env.twilio
    ? {
      TWILIO_API_BASE_URL: env.twilio.baseUrl,
      TWILIO_ACCOUNT_SID: env.twilio.accountSid,
      TWILIO_AUTH_TOKEN: env.twilio.authToken,
      TWILIO_FROM_NUMBER: "+15005550006",
    }
    : {};
  // A fake the test did not start: its adapter points at nothing it could reach.
  const wa = env.wa ??
    { baseUrl: `${NOWHERE}/v21.0`, accessToken: "none", phoneNumberId: "none" } as FakeWhatsApp;
  const mtn = env.mtn ??
    { baseUrl: NOWHERE, apiKey: "none", apiSecret: "none", senderId: "none" } as FakeMtn;
  const config = loadConfig({ ...envVars({ db: env.db, wa, mtn }), ...twilio, ...opts.vars });
  return createSenderDirectory(config, {
    timeoutMs: opts.timeoutMs ?? TIMEOUT.timeoutMs,
    fetch: opts.fetch,
  });
}

/** For tests of other behaviour: every send gets its token at once, nothing is written. */
export const NO_PACING: Pacer = {
  acquire: () => Promise.resolve(new Set()),
  take: (_sender, wanted) => Promise.resolve({ granted: wanted, waitMs: 0 }),
  slowDown: () => Promise.resolve(),
};
