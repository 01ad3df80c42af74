import { z } from "zod";

/** The admin API's request bodies (docs/tenants.md). Credentials are write-only everywhere. */

// deno-lint-ignore no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const Text = (max: number) =>
  z.string().trim().min(1).max(max).regex(NO_CONTROL, "no control characters");
/** Tokens and secrets travel in HTTP headers: printable ASCII, no spaces. */
const Secret = z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, "printable ASCII, no spaces");
const Routing = z.enum(["ai", "agent", "ai_then_agent"]);

export const TenantCreate = z.object({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and -"),
  name: Text(200),
}).strict();

export const TenantUpdate = z.object({ name: Text(200) }).strict();

export const WhatsAppAccountInput = z.object({
  kind: z.literal("whatsapp"),
  phone_number_id: z.string().regex(/^\d{5,30}$/, "the WhatsApp phone number id (digits)"),
  display_name: Text(200).optional(),
  routing: Routing.optional(),
  credentials: z.object({ access_token: Secret, app_secret: Secret }).strict(),
}).strict();

export const GenesysAccountInput = z.object({
  kind: z.literal("genesys"),
  integration_id: Text(200),
  display_name: Text(200).optional(),
  settings: z.object({
    api_base_url: z.url().optional(),
    login_base_url: z.url().optional(),
  }).strict().optional(),
  credentials: z.object({
    client_id: Secret,
    client_secret: Secret,
    webhook_secret: Secret,
  }).strict(),
}).strict();

export const MessengerAccountInput = z.object({
  kind: z.literal("messenger"),
  page_id: z.string().regex(/^\d{5,30}$/, "the Facebook page id (digits)"),
  display_name: Text(200).optional(),
  credentials: z.object({ page_access_token: Secret, app_secret: Secret }).strict(),
}).strict();

export const AccountInput = z.discriminatedUnion("kind", [
  WhatsAppAccountInput,
  GenesysAccountInput,
  MessengerAccountInput,
]);
export type AccountInput = z.infer<typeof AccountInput>;

/** A tenant with its accounts in one call (the portal's onboarding review step). */
export const TenantOnboard = TenantCreate.extend({
  accounts: z.array(AccountInput).max(10).optional(),
}).strict();

/**
 * A change to an existing account: credentials, when given, replace the stored document whole
 * (and are checked live first); `disabled` turns the account off or on again.
 */
export const AccountUpdate = z.object({
  display_name: Text(200).optional(),
  routing: Routing.optional(),
  settings: GenesysAccountInput.shape.settings,
  credentials: z.record(z.string(), Secret).optional(),
  disabled: z.boolean().optional(),
}).strict();
