import { hmacSha256Base64, hmacSha256Hex } from "../http/signature.ts";
import { twilioSignature } from "../sms-inbound/twilio-signature.ts";
import { signResendWebhook } from "../email-inbound/verify.ts";
import type { GenesysAccount, WhatsAppAccount } from "../tenants/accounts.ts";

/** An archived webhook as public.webhook_archive holds it. */
export interface ArchivedRow {
  id: number | string;
  source: string;
  headers: Record<string, string>;
  content_type: string | null;
  body: string;
  replay_count: number;
}

export interface ReplaySecrets {
  accounts: {
    whatsapp(phoneNumberId: string | null): Promise<WhatsAppAccount | null>;
    genesys(integrationId: string): Promise<GenesysAccount | null>;
  };
  metaAppSecret?: string;
  mtnSecret?: string;
  twilioAuthToken?: string;
  /** The public functions URL Twilio signs (PUBLIC_FUNCTIONS_URL). */
  publicFunctionsUrl?: string;
  resendWebhookSecret?: string;
}

export type ReplayRequest =
  | { ok: true; path: string; headers: Record<string, string> }
  | { ok: false; reason: string };

/**
 * The request that re-feeds an archived body to the function that received it, signed as its
 * provider signs (the function checks it exactly as it checked the original): WhatsApp and
 * Meta hex HMAC with the app secret, Genesys base64 HMAC with the integration's webhook secret,
 * the MTN-style gateway hex HMAC, Twilio's signature over the public URL and parameters, and
 * Resend's Standard Webhooks signature under a new message id (the original id was used up by
 * its replay protection). The handlers are idempotent on the providers' ids, so a replayed
 * event that was recorded before changes nothing.
 */
export async function replayRequest(row: ArchivedRow, s: ReplaySecrets): Promise<ReplayRequest> {
  const bytes = new TextEncoder().encode(row.body);
  const path = `/${row.source}${row.headers.path ?? ""}${row.headers.query ?? ""}`;
  const base = { "content-type": row.content_type ?? "application/json" };
  const missing = (what: string): ReplayRequest => ({ ok: false, reason: `${what} is not set` });
  switch (row.source) {
    case "wa-webhook": {
      const number = phoneNumberIdOf(row.body);
      const secret = (await s.accounts.whatsapp(number))?.appSecret;
      if (!secret) return missing(`the app secret of WhatsApp number ${number ?? "(env)"}`);
      return signed(
        path,
        base,
        "x-hub-signature-256",
        `sha256=${await hmacSha256Hex(secret, bytes)}`,
      );
    }
    case "meta-webhook":
      if (!s.metaAppSecret) return missing("META_APP_SECRET");
      return signed(
        path,
        base,
        "x-hub-signature-256",
        `sha256=${await hmacSha256Hex(s.metaAppSecret, bytes)}`,
      );
    case "genesys-webhook": {
      const integrationId = integrationIdOf(row.body);
      const integration = integrationId ? await s.accounts.genesys(integrationId) : null;
      if (!integration?.webhookSecret) return missing(`the webhook secret of ${integrationId}`);
      return signed(
        path,
        base,
        "x-hub-signature-256",
        `sha256=${await hmacSha256Base64(integration.webhookSecret, bytes)}`,
      );
    }
    case "sms-inbound": {
      if ((row.headers.path ?? "").endsWith("/twilio")) {
        if (!s.twilioAuthToken || !s.publicFunctionsUrl) {
          return missing("TWILIO_AUTH_TOKEN or PUBLIC_FUNCTIONS_URL");
        }
        const url = s.publicFunctionsUrl.replace(/\/+$/, "") + path;
        const params = [...new URLSearchParams(row.body)];
        return signed(
          path,
          base,
          "x-twilio-signature",
          await twilioSignature(
            s.twilioAuthToken,
            url,
            params,
          ),
        );
      }
      if (!s.mtnSecret) return missing("MTN_WEBHOOK_SECRET");
      return signed(path, base, "x-mtn-signature", await hmacSha256Hex(s.mtnSecret, bytes));
    }
    case "email-inbound": {
      if (!s.resendWebhookSecret) return missing("RESEND_WEBHOOK_SECRET");
      const id = `replay_${row.id}_${row.replay_count + 1}`;
      return {
        ok: true,
        path,
        headers: { ...base, ...signResendWebhook(s.resendWebhookSecret, id, new Date(), row.body) },
      };
    }
  }
  return { ok: false, reason: `${row.source} bodies are not replayed (outbound posts)` };
}

function signed(
  path: string,
  base: Record<string, string>,
  header: string,
  value: string,
): ReplayRequest {
  return { ok: true, path, headers: { ...base, [header]: value } };
}

function phoneNumberIdOf(body: string): string | null {
  try {
    const id = JSON.parse(body)?.entry?.[0]?.changes?.[0]?.value?.metadata?.phone_number_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

function integrationIdOf(body: string): string | null {
  try {
    const id = JSON.parse(body)?.channel?.id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}
