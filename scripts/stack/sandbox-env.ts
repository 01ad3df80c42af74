/**
 * The provider settings that point every channel at the local provider sandbox, in one place:
 * the local stack, the demo, the tests and the benchmarks all build their environment here.
 *
 * A provider is "real" when its credentials are in the environment; only providers without
 * credentials get sandbox values, and only for variables that are unset, so a base URL pointed
 * at another server is kept.
 */

export type Env = Record<string, string | undefined>;

export type SandboxProvider =
  | "whatsapp"
  | "mtn"
  | "twilio"
  | "openai"
  | "meta"
  | "genesys"
  | "resend";

/** The credentials whose presence means "talk to the real provider". */
const CREDENTIALS: Record<SandboxProvider, (env: Env) => boolean> = {
  whatsapp: (env) => Boolean(env.WHATSAPP_ACCESS_TOKEN),
  mtn: (env) => Boolean(env.MTN_SMS_API_KEY),
  twilio: (env) => Boolean(env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN),
  openai: (env) => Boolean(env.OPENAI_API_KEY),
  meta: (env) => Boolean(env.MESSENGER_PAGE_ACCESS_TOKEN || env.INSTAGRAM_ACCESS_TOKEN),
  genesys: (env) => Boolean(env.GENESYS_CLIENT_ID && env.GENESYS_CLIENT_SECRET),
  resend: (env) => Boolean(env.RESEND_API_KEY),
};

/** The sandbox's own credentials: it accepts exactly these, as the real providers would. */
export const SANDBOX_CREDENTIALS = {
  whatsappAccessToken: "sandbox-whatsapp-token",
  whatsappPhoneNumberId: "100000000000001",
  whatsappBusinessAccountId: "102290129340398",
  whatsappAppSecret: "sandbox-app-secret",
  whatsappVerifyToken: "sandbox-verify-token",
  mtnApiKey: "sandbox-mtn-key",
  mtnApiSecret: "sandbox-mtn-secret",
  mtnWebhookSecret: "sandbox-mtn-webhook-secret",
  twilioAccountSid: "AC00000000000000000000000000000000",
  twilioAuthToken: "sandbox-twilio-token",
  twilioFromNumber: "+15005550006",
  metaAppSecret: "sandbox-meta-secret",
  metaVerifyToken: "sandbox-meta-verify",
  messengerPageAccessToken: "sandbox-page-token",
  genesysClientId: "sandbox-genesys-client",
  genesysClientSecret: "sandbox-genesys-secret",
  genesysIntegrationId: "00000000-0000-4000-8000-00000000e501",
  genesysWebhookSecret: "sandbox-genesys-webhook-secret",
  instagramAccessToken: "sandbox-instagram-token",
  resendApiKey: "re_sandbox_key",
  // whsec_ + base64("sandbox-resend-webhook-secret"), as Resend shows a signing secret.
  resendWebhookSecret: "whsec_c2FuZGJveC1yZXNlbmQtd2ViaG9vay1zZWNyZXQ=",
  emailFrom: "Omni Support <support@sandbox.test>",
} as const;

/** Every sandbox variable, per provider, for a sandbox at `sandboxUrl` (no trailing slash). */
export function sandboxDefaults(
  sandboxUrl: string,
): Record<SandboxProvider, Record<string, string>> {
  const c = SANDBOX_CREDENTIALS;
  return {
    whatsapp: {
      WHATSAPP_API_BASE_URL: `${sandboxUrl}/whatsapp/v21.0`,
      WHATSAPP_ACCESS_TOKEN: c.whatsappAccessToken,
      WHATSAPP_PHONE_NUMBER_ID: c.whatsappPhoneNumberId,
      WHATSAPP_APP_SECRET: c.whatsappAppSecret,
      WHATSAPP_VERIFY_TOKEN: c.whatsappVerifyToken,
      WHATSAPP_SUMMARY_TEMPLATE: "call_summary",
      WHATSAPP_BUSINESS_ACCOUNT_ID: c.whatsappBusinessAccountId,
    },
    mtn: {
      MTN_SMS_API_BASE_URL: `${sandboxUrl}/mtn`,
      MTN_SMS_API_KEY: c.mtnApiKey,
      MTN_SMS_API_SECRET: c.mtnApiSecret,
      MTN_SMS_SENDER_ID: "OMNI",
      MTN_WEBHOOK_SECRET: c.mtnWebhookSecret,
    },
    twilio: {
      TWILIO_API_BASE_URL: `${sandboxUrl}/twilio`,
      TWILIO_ACCOUNT_SID: c.twilioAccountSid,
      TWILIO_AUTH_TOKEN: c.twilioAuthToken,
      TWILIO_FROM_NUMBER: c.twilioFromNumber,
    },
    // No OPENAI_API_KEY on purpose: without one the sandbox answers with its scripted model.
    openai: { OPENAI_BASE_URL: `${sandboxUrl}/openai/v1` },
    meta: {
      META_GRAPH_BASE_URL: `${sandboxUrl}/meta/v21.0`,
      META_APP_SECRET: c.metaAppSecret,
      META_VERIFY_TOKEN: c.metaVerifyToken,
      MESSENGER_PAGE_ACCESS_TOKEN: c.messengerPageAccessToken,
      INSTAGRAM_ACCESS_TOKEN: c.instagramAccessToken,
    },
    genesys: {
      GENESYS_API_BASE_URL: `${sandboxUrl}/genesys`,
      GENESYS_LOGIN_BASE_URL: `${sandboxUrl}/genesys`,
      GENESYS_CLIENT_ID: c.genesysClientId,
      GENESYS_CLIENT_SECRET: c.genesysClientSecret,
      GENESYS_INTEGRATION_ID: c.genesysIntegrationId,
      GENESYS_WEBHOOK_SECRET: c.genesysWebhookSecret,
    },
    resend: {
      RESEND_API_BASE_URL: `${sandboxUrl}/resend`,
      RESEND_API_KEY: c.resendApiKey,
      RESEND_WEBHOOK_SECRET: c.resendWebhookSecret,
      EMAIL_FROM: c.emailFrom,
      EMAIL_UNSUBSCRIBE_SECRET: "sandbox-unsubscribe-secret",
    },
  };
}

/** Which providers have real credentials in `env` (the rest go to the sandbox). */
export function realProviders(env: Env): SandboxProvider[] {
  return (Object.keys(CREDENTIALS) as SandboxProvider[]).filter((p) => CREDENTIALS[p](env));
}

/**
 * `env` with sandbox values filled in for every provider that has no real credentials, plus
 * LOCAL_SANDBOX_URL (health reports a base URL under it as "sandbox") and SMS_PROVIDER=mtn
 * unless set.
 */
export function withSandboxProviders(env: Env, sandboxUrl: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const real = new Set(realProviders(env));
  const defaults = sandboxDefaults(sandboxUrl);
  for (const provider of Object.keys(defaults) as SandboxProvider[]) {
    if (real.has(provider)) continue;
    for (const [k, v] of Object.entries(defaults[provider])) if (!out[k]) out[k] = v;
  }
  out.SMS_PROVIDER ||= "mtn";
  out.LOCAL_SANDBOX_URL = sandboxUrl;
  return out;
}
