import { z } from "zod";
import { exchange, joinUrl, type ProviderReply } from "../channels/http.ts";
import { HttpError } from "../http/errors.ts";
import type { AccountInput } from "./schemas.ts";

/** Where the live checks go: the env's provider base URLs (the sandbox locally). */
export interface CredentialCheckConfig {
  whatsappApiBaseUrl: string;
  metaGraphBaseUrl: string;
  genesysLoginBaseUrl: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** What a successful check learnt (shown in the portal's review step; nothing secret). */
export type CheckResult = Record<string, string>;

const PhoneNumber = z.object({
  display_phone_number: z.string().optional(),
  verified_name: z.string().optional(),
}).loose();

const Page = z.object({ name: z.string().optional() }).loose();

/** 422: the provider refused this credential; `field` names it in the request body. */
export const rejected = (field: string, message: string) =>
  new HttpError(422, "TENANTS.CREDENTIALS_REJECTED", message, { field });

/** 502: the provider could not be asked (network, timeout, 5xx); nothing was saved. */
const unreachable = (provider: string, detail: string) =>
  new HttpError(
    502,
    "TENANTS.PROVIDER_UNREACHABLE",
    `Could not check the credentials with ${provider} (${detail}); nothing was saved, try again`,
    { provider },
  );

/**
 * Checks an account's credentials with its provider before anything is saved: WhatsApp looks up
 * the phone number with the token (`GET /{version}/{phone_number_id}`), Genesys issues a
 * client-credentials token (`POST {login}/oauth/token`), Messenger looks up the page with the
 * page token. The answer never carries a credential back, and nothing here logs one.
 */
export async function checkCredentials(
  input: AccountInput,
  cfg: CredentialCheckConfig,
): Promise<CheckResult> {
  switch (input.kind) {
    case "whatsapp":
      return await checkWhatsApp(input.phone_number_id, input.credentials.access_token, cfg);
    case "genesys":
      return await checkGenesys(
        input.settings?.login_base_url ?? cfg.genesysLoginBaseUrl,
        input.credentials.client_id,
        input.credentials.client_secret,
        cfg,
      );
    case "messenger":
      return await checkMessengerPage(input.page_id, input.credentials.page_access_token, cfg);
  }
}

async function ask(provider: string, cfg: CredentialCheckConfig, url: URL, init: RequestInit) {
  const result = await exchange(cfg.fetch, url, init, cfg.timeoutMs);
  if (!result.ok) throw unreachable(provider, result.failure.message);
  const { reply } = result;
  if (reply.status >= 500 || reply.status === 429) {
    throw unreachable(provider, `HTTP ${reply.status}`);
  }
  return reply;
}

/** Graph API error code 190 (or HTTP 401): the token is invalid or expired. */
function graphTokenRefused(reply: ProviderReply): boolean {
  const code = (reply.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  return reply.status === 401 || code === 190;
}

/**
 * A Graph API object lookup with a token (`GET {base}/{id}?fields=…`): a refused token names the
 * token's field, an id the token cannot read names the id's field.
 */
async function graphLookup(
  provider: string,
  baseUrl: string,
  id: { field: string; value: string },
  token: { field: string; value: string },
  fields: string,
  cfg: CredentialCheckConfig,
): Promise<unknown> {
  const url = joinUrl(baseUrl, encodeURIComponent(id.value));
  url.searchParams.set("fields", fields);
  const reply = await ask(provider, cfg, url, {
    headers: { authorization: `Bearer ${token.value}`, accept: "application/json" },
  });
  if (graphTokenRefused(reply)) throw rejected(token.field, `${provider} refused the token`);
  if (reply.status !== 200) {
    throw rejected(
      id.field,
      `${provider} does not know ${id.value} for this token (HTTP ${reply.status})`,
    );
  }
  return reply.json;
}

async function checkWhatsApp(
  phoneNumberId: string,
  token: string,
  cfg: CredentialCheckConfig,
): Promise<CheckResult> {
  const n = PhoneNumber.safeParse(
    await graphLookup(
      "WhatsApp",
      cfg.whatsappApiBaseUrl,
      { field: "phone_number_id", value: phoneNumberId },
      { field: "credentials.access_token", value: token },
      "display_phone_number,verified_name",
      cfg,
    ),
  );
  return {
    ...(n.success && n.data.display_phone_number
      ? { display_phone_number: n.data.display_phone_number }
      : {}),
    ...(n.success && n.data.verified_name ? { verified_name: n.data.verified_name } : {}),
  };
}

async function checkGenesys(
  loginBaseUrl: string,
  clientId: string,
  clientSecret: string,
  cfg: CredentialCheckConfig,
): Promise<CheckResult> {
  const reply = await ask("Genesys Cloud", cfg, joinUrl(loginBaseUrl, "/oauth/token"), {
    method: "POST",
    headers: {
      authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  if (reply.status === 401 || reply.status === 400 || reply.status === 403) {
    throw rejected(
      "credentials.client_secret",
      "Genesys Cloud refused the OAuth client (client_id / client_secret)",
    );
  }
  const ok = z.object({ access_token: z.string().min(1) }).loose().safeParse(reply.json);
  if (reply.status !== 200 || !ok.success) {
    throw unreachable("Genesys Cloud", `unexpected answer HTTP ${reply.status}`);
  }
  return { token: "issued" };
}

async function checkMessengerPage(
  pageId: string,
  token: string,
  cfg: CredentialCheckConfig,
): Promise<CheckResult> {
  const p = Page.safeParse(
    await graphLookup(
      "Meta",
      cfg.metaGraphBaseUrl,
      { field: "page_id", value: pageId },
      { field: "credentials.page_access_token", value: token },
      "name",
      cfg,
    ),
  );
  return p.success && p.data.name ? { name: p.data.name } : {};
}
