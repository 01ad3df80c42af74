import { z } from "zod";

/**
 * Environment, read once per isolate and validated. Provider credentials are optional here:
 * each adapter and webhook fails closed when the ones it needs are missing. Malformed values
 * (a URL that is not one, an unknown SMS provider) are errors at start-up, all named at once.
 */
const optionalText = z.string().trim().min(1).optional();
const optionalUrl = z.url().optional();

/** A JSON value in one variable (Supabase provisions its keys this way); malformed = an error. */
const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((raw, ctx) => {
    try {
      return JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  }).pipe(schema);
/** `{"default":"sb_secret_…","cron":"sb_secret_…"}`: named keys, as Supabase provisions them. */
const namedKeys = json(z.record(z.string().min(1), z.string().min(1))).optional();

const EnvSchema = z.object({
  SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  SUPABASE_URL: optionalUrl,
  SUPABASE_SERVICE_ROLE_KEY: optionalText,
  SUPABASE_ANON_KEY: optionalText,
  SUPABASE_JWT_SECRET: optionalText,
  SUPABASE_SECRET_KEYS: namedKeys,
  SUPABASE_PUBLISHABLE_KEYS: namedKeys,
  SUPABASE_JWKS: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })).optional(),
  SUPABASE_JWKS_URL: optionalUrl,
  /** `reject` stops accepting the legacy service-role key/JWT even where Supabase still injects it. */
  LEGACY_API_KEYS: z.enum(["accept", "reject"]).default("accept"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(3),
  /** Named prepared statements: `auto` = on, except through a transaction-mode pooler. */
  DB_PREPARE: z.enum(["auto", "on", "off"]).default("auto"),

  WHATSAPP_ACCESS_TOKEN: optionalText,
  WHATSAPP_PHONE_NUMBER_ID: optionalText,
  WHATSAPP_APP_SECRET: optionalText,
  WHATSAPP_VERIFY_TOKEN: optionalText,
  WHATSAPP_API_BASE_URL: z.url().default("https://graph.facebook.com/v21.0"),
  WHATSAPP_SUMMARY_TEMPLATE: optionalText,
  /** The WhatsApp Business Account whose templates the `messages` API syncs. */
  WHATSAPP_BUSINESS_ACCOUNT_ID: optionalText,
  WHATSAPP_TEMPLATE_LANGUAGE: z.string().trim().min(2).default("en"),

  SMS_PROVIDER: z.enum(["mtn", "twilio"]).default("mtn"),
  MTN_SMS_API_KEY: optionalText,
  MTN_SMS_API_SECRET: optionalText,
  MTN_SMS_SENDER_ID: optionalText,
  MTN_WEBHOOK_SECRET: optionalText,
  MTN_SMS_API_BASE_URL: optionalUrl,

  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_FROM_NUMBER: optionalText,
  TWILIO_API_BASE_URL: z.url().default("https://api.twilio.com"),

  PUBLIC_FUNCTIONS_URL: optionalUrl,
  /** Set by the local stack: base URLs under it are the provider sandbox, not the provider. */
  LOCAL_SANDBOX_URL: optionalUrl,

  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: z.url().default("https://api.openai.com/v1"),
  OPENAI_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),

  META_APP_SECRET: optionalText,
  META_VERIFY_TOKEN: optionalText,
  MESSENGER_PAGE_ACCESS_TOKEN: optionalText,
  INSTAGRAM_ACCESS_TOKEN: optionalText,
  META_GRAPH_BASE_URL: z.url().default("https://graph.facebook.com/v21.0"),

  GENESYS_API_BASE_URL: z.url().default("https://api.mypurecloud.com"),
  GENESYS_LOGIN_BASE_URL: z.url().default("https://login.mypurecloud.com"),
  GENESYS_CLIENT_ID: optionalText,
  GENESYS_CLIENT_SECRET: optionalText,
  GENESYS_INTEGRATION_ID: optionalText,
  GENESYS_WEBHOOK_SECRET: optionalText,
  /** Who answers WhatsApp on the env-configured number (accounts in the database carry their own). */
  WHATSAPP_ROUTING: z.enum(["ai", "agent", "ai_then_agent"]).default("ai"),
  /** Days a raw webhook body is kept in public.webhook_archive (purged by the dispatch tick). */
  WEBHOOK_ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),

  WHATSAPP_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(80),
  SMS_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(20),
  /** Per page / Instagram account (Meta throttles per page; 40/s stays well inside it). */
  META_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(40),

  RESEND_API_KEY: optionalText,
  RESEND_API_BASE_URL: z.url().default("https://api.resend.com"),
  /** `Name <address@verified-domain>`: every email is sent from it, and replies come back to it. */
  EMAIL_FROM: optionalText,
  /** `whsec_…`: the signing secret of the Resend webhook endpoint (email-inbound). */
  RESEND_WEBHOOK_SECRET: optionalText,
  /** Signs the one-click unsubscribe links of marketing email; unset: no marketing email. */
  EMAIL_UNSUBSCRIBE_SECRET: optionalText,
  /** API calls per second (a batch of up to 100 emails is one); Resend's default limit is 2. */
  EMAIL_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(2),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(500),
  DISPATCH_TIME_BUDGET_MS: z.coerce.number().int().min(1000).max(140_000).default(25_000),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  POST_CALL_SUMMARY_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(8_000),
  POST_CALL_CHANNELS: z.enum(["both", "whatsapp_first"]).default("both"),
  POST_CALL_SUMMARY_POLL_MS: z.coerce.number().int().min(50).max(10_000).default(500),
  /** Sends per minute each caller of the `messages` API may make (counted in Postgres). */
  MESSAGES_API_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** Other `messages` API requests (reads, conversation moves) per minute per caller. */
  MESSAGES_API_READS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(6000),

  DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 code").default(
    "RW",
  ),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Strips empty strings (an unset secret is often `FOO=` in a .env file) before validating. */
export function loadConfig(env: Record<string, string | undefined>): Env {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== "") cleaned[k] = v;
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) =>
        `${i.path.join(".")}: ${i.code === "invalid_type" ? "is required" : i.message}`
      ),
    );
  }
  return parsed.data;
}

export type ProviderMode = "real" | "sandbox" | "unconfigured";

/** Which providers have credentials (real) and which point at the local sandbox. */
export function providerModes(env: Env, sandboxUrl?: string) {
  // The sandbox is checked first: it needs no credentials (OpenAI's scripted model has no key).
  const mode = (configured: boolean, baseUrl: string | undefined): ProviderMode =>
    sandboxUrl && baseUrl?.startsWith(sandboxUrl)
      ? "sandbox"
      : configured
      ? "real"
      : "unconfigured";
  const smsBase = env.SMS_PROVIDER === "twilio"
    ? env.TWILIO_API_BASE_URL
    : env.MTN_SMS_API_BASE_URL;
  const smsConfigured = env.SMS_PROVIDER === "twilio"
    ? Boolean(env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM_NUMBER)
    : Boolean(env.MTN_SMS_API_KEY && env.MTN_SMS_API_BASE_URL);
  return {
    whatsapp: mode(
      Boolean(env.WHATSAPP_ACCESS_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID),
      env.WHATSAPP_API_BASE_URL,
    ),
    sms: mode(smsConfigured, smsBase),
    openai: mode(Boolean(env.OPENAI_API_KEY), env.OPENAI_BASE_URL),
    meta: mode(
      Boolean(env.MESSENGER_PAGE_ACCESS_TOKEN || env.INSTAGRAM_ACCESS_TOKEN),
      env.META_GRAPH_BASE_URL,
    ),
    genesys: mode(
      Boolean(env.GENESYS_CLIENT_ID && env.GENESYS_CLIENT_SECRET && env.GENESYS_INTEGRATION_ID),
      env.GENESYS_API_BASE_URL,
    ),
    email: mode(Boolean(env.RESEND_API_KEY && env.EMAIL_FROM), env.RESEND_API_BASE_URL),
  };
}
