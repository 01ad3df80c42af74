import { z } from "zod";
import type { Env } from "../config.ts";
import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";

/** The tenant that owns the env-configured providers (created by the tenants migration). */
export const DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000001";

/** Lookups kept per isolate at most (a miss is kept too). */
const MAX_CACHED = 5_000;

export type Routing = "ai" | "agent" | "ai_then_agent";

/** A WhatsApp number a webhook names, with its tenant and its own credentials. */
export interface WhatsAppAccount {
  tenantId: string;
  /** Null for the env-configured number (the default tenant's, no row). */
  accountId: string | null;
  phoneNumberId: string | null;
  routing: Routing;
  accessToken?: string;
  appSecret?: string;
  /**
   * The approved template an agent's text is sent as outside the 24-hour window (settings
   * `agent_reply_template`: {name, language}); unset, such a reply is refused. The env number
   * uses WHATSAPP_SUMMARY_TEMPLATE.
   */
  agentReplyTemplate?: { name: string; language: string };
}

/** A Genesys Cloud Open Messaging integration, with its OAuth client and webhook secret. */
export interface GenesysAccount {
  tenantId: string;
  accountId: string | null;
  integrationId: string;
  apiBaseUrl: string;
  loginBaseUrl: string;
  clientId?: string;
  clientSecret?: string;
  webhookSecret?: string;
}

const WhatsAppCredentials = z.object({
  access_token: z.string().min(1).optional(),
  app_secret: z.string().min(1).optional(),
}).loose();

const GenesysCredentials = z.object({
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  webhook_secret: z.string().min(1).optional(),
}).loose();

const WhatsAppSettings = z.object({
  agent_reply_template: z.object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(16),
  }).optional(),
}).loose();

const GenesysSettings = z.object({
  api_base_url: z.url().optional(),
  login_base_url: z.url().optional(),
}).loose();

export interface AccountDirectoryOptions {
  /** How long a lookup (a miss too) is trusted in this isolate. Default 30 s. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Which tenant account a webhook is for: `phone_number_id` → WhatsApp account, integration id →
 * Genesys integration, and a tenant's integration for its handoffs. Each is one indexed lookup
 * (public.resolve_channel_account / tenant_channel_account), cached per isolate for a short TTL
 * so a busy webhook does not ask on every request and a changed credential is picked up soon.
 * The env-configured number and integration are the default tenant's: they need no row (a row
 * for the same id wins). When WHATSAPP_PHONE_NUMBER_ID is unset, the env account answers for any
 * number no row holds (a single-tenant deployment that never named its number).
 */
export function createAccountDirectory(sql: Sql, env: Env, opts: AccountDirectoryOptions = {}) {
  const ttl = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();

  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttl) return hit.value as Promise<T>;
    const value = load();
    // Ids come from unsigned bodies too: the cache stays bounded whatever is sent.
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { at: now(), value });
    value.catch(() => cache.delete(key));
    return value;
  }

  const envWhatsApp = (phoneNumberId: string | null): WhatsAppAccount => ({
    tenantId: DEFAULT_TENANT_ID,
    accountId: null,
    phoneNumberId: phoneNumberId ?? env.WHATSAPP_PHONE_NUMBER_ID ?? null,
    routing: env.WHATSAPP_ROUTING,
    accessToken: env.WHATSAPP_ACCESS_TOKEN,
    appSecret: env.WHATSAPP_APP_SECRET,
    ...(env.WHATSAPP_SUMMARY_TEMPLATE
      ? {
        agentReplyTemplate: {
          name: env.WHATSAPP_SUMMARY_TEMPLATE,
          language: env.WHATSAPP_TEMPLATE_LANGUAGE,
        },
      }
      : {}),
  });

  const envGenesys = (): GenesysAccount | null =>
    env.GENESYS_INTEGRATION_ID
      ? {
        tenantId: DEFAULT_TENANT_ID,
        accountId: null,
        integrationId: env.GENESYS_INTEGRATION_ID,
        apiBaseUrl: env.GENESYS_API_BASE_URL,
        loginBaseUrl: env.GENESYS_LOGIN_BASE_URL,
        clientId: env.GENESYS_CLIENT_ID,
        clientSecret: env.GENESYS_CLIENT_SECRET,
        webhookSecret: env.GENESYS_WEBHOOK_SECRET,
      }
      : null;

  const genesysOf = (
    tenantId: string,
    r: { account_id: string; settings: unknown; credentials: unknown },
    integrationId: string,
  ): GenesysAccount => {
    const s = GenesysSettings.safeParse(r.settings);
    const c = GenesysCredentials.safeParse(r.credentials);
    return {
      tenantId,
      accountId: r.account_id,
      integrationId,
      apiBaseUrl: (s.success && s.data.api_base_url) || env.GENESYS_API_BASE_URL,
      loginBaseUrl: (s.success && s.data.login_base_url) || env.GENESYS_LOGIN_BASE_URL,
      clientId: c.success ? c.data.client_id : undefined,
      clientSecret: c.success ? c.data.client_secret : undefined,
      webhookSecret: c.success ? c.data.webhook_secret : undefined,
    };
  };

  return {
    /** The account holding this phone_number_id; null: no account holds it (drop the event). */
    whatsapp(phoneNumberId: string | null): Promise<WhatsAppAccount | null> {
      if (!phoneNumberId) return Promise.resolve(envWhatsApp(null));
      return cached(`whatsapp:${phoneNumberId}`, async () => {
        const [r] = await rpc(sql, "resolve_channel_account", {
          p_kind: "whatsapp",
          p_external_id: phoneNumberId,
        });
        if (r) {
          const c = WhatsAppCredentials.safeParse(r.credentials);
          const settings = WhatsAppSettings.safeParse(r.settings);
          const template = settings.success ? settings.data.agent_reply_template : undefined;
          return {
            tenantId: r.tenant_id,
            accountId: r.account_id,
            phoneNumberId,
            routing: r.routing as Routing,
            accessToken: c.success ? c.data.access_token : undefined,
            appSecret: c.success ? c.data.app_secret : undefined,
            ...(template ? { agentReplyTemplate: template } : {}),
          };
        }
        const envId = env.WHATSAPP_PHONE_NUMBER_ID;
        return !envId || envId === phoneNumberId ? envWhatsApp(phoneNumberId) : null;
      });
    },

    /** The Genesys integration with this id (a genesys-webhook's); null when none holds it. */
    genesys(integrationId: string): Promise<GenesysAccount | null> {
      return cached(`genesys:${integrationId}`, async () => {
        const [r] = await rpc(sql, "resolve_channel_account", {
          p_kind: "genesys",
          p_external_id: integrationId,
        });
        if (r) return genesysOf(r.tenant_id, r, integrationId);
        const fromEnv = envGenesys();
        return fromEnv?.integrationId === integrationId ? fromEnv : null;
      });
    },

    /** A tenant's Genesys integration (where its WhatsApp conversations are handed to agents). */
    genesysOfTenant(tenantId: string): Promise<GenesysAccount | null> {
      return cached(`genesys-tenant:${tenantId}`, async () => {
        const [r] = await rpc(sql, "tenant_channel_account", {
          p_tenant_id: tenantId,
          p_kind: "genesys",
        });
        if (r) return genesysOf(tenantId, r, r.external_id);
        return tenantId === DEFAULT_TENANT_ID ? envGenesys() : null;
      });
    },
  };
}

export type AccountDirectory = ReturnType<typeof createAccountDirectory>;
