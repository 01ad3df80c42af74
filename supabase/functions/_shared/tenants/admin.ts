import type { Sql } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import { HttpError } from "../http/errors.ts";
import type { Json } from "../db/database.types.ts";
import type { AccountInput } from "./schemas.ts";

/** The tenants admin use-cases on the database; credentials go in through Vault only. */

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export const tenantNotFound = () => new HttpError(404, "TENANTS.NOT_FOUND", "No such tenant");
export const accountNotFound = () =>
  new HttpError(404, "TENANTS.ACCOUNT_NOT_FOUND", "This tenant has no such account");

/** An account as the API shows it: which credential fields are set, never their values. */
export function publicAccount(a: Awaited<ReturnType<typeof listAccounts>>[number]) {
  return {
    id: a.id,
    kind: a.kind,
    external_id: a.external_id,
    display_name: a.display_name,
    routing: a.routing,
    settings: a.settings,
    credentials: Object.fromEntries((a.credential_fields ?? []).map((f) => [f, "set"])),
    disabled: a.disabled_at !== null,
    disabled_at: a.disabled_at,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}

const iso = <R extends TenantRow>(r: R) => ({
  ...r,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

export async function listTenants(sql: Sql) {
  const rows = await sql<(TenantRow & { accounts: number; routing: string[] })[]>`
    select t.id, t.slug, t.name, t.created_at, t.updated_at,
      (select count(*)::int from public.channel_accounts a where a.tenant_id = t.id) as accounts,
      coalesce((select array_agg(distinct a.routing order by a.routing)
                from public.channel_accounts a
                where a.tenant_id = t.id and a.kind = 'whatsapp' and a.disabled_at is null),
               '{}') as routing
    from public.tenants t order by t.created_at, t.slug`;
  return rows.map(iso);
}

export async function getTenant(sql: Sql, id: string) {
  const [t] = await sql<TenantRow[]>`
    select id, slug, name, created_at, updated_at from public.tenants where id = ${id}`;
  if (!t) throw tenantNotFound();
  return iso(t);
}

export const listAccounts = (sql: Sql, tenantId: string) =>
  rpc(sql, "list_channel_accounts", { p_tenant_id: tenantId });

export async function renameTenant(sql: Sql, id: string, name: string) {
  const [t] = await sql<TenantRow[]>`
    update public.tenants set name = ${name} where id = ${id}
    returning id, slug, name, created_at, updated_at`;
  if (!t) throw tenantNotFound();
  return iso(t);
}

/** The provider's id for an account: what its webhooks name. */
export function externalIdOf(a: AccountInput): string {
  if (a.kind === "whatsapp") return a.phone_number_id;
  if (a.kind === "genesys") return a.integration_id;
  return a.page_id;
}

/** What save_channel_account writes; null credentials/settings keep the stored ones. */
export interface AccountWrite {
  kind: string;
  externalId: string;
  credentials?: Record<string, string> | null;
  displayName?: string;
  routing?: string;
  settings?: Json;
}

export function writeOf(a: AccountInput): AccountWrite {
  return {
    kind: a.kind,
    externalId: externalIdOf(a),
    credentials: a.credentials,
    displayName: a.display_name,
    routing: a.kind === "whatsapp" ? a.routing : undefined,
    settings: a.kind === "genesys" ? a.settings ?? {} : undefined,
  };
}

const ID_FIELD: Record<string, string> = {
  whatsapp: "phone_number_id",
  genesys: "integration_id",
  messenger: "page_id",
};

/** Creates or updates one account (credentials into Vault); its id. */
export async function saveAccount(sql: Sql, tenantId: string, a: AccountWrite): Promise<string> {
  try {
    return await rpcValue(sql, "save_channel_account", {
      p_tenant_id: tenantId,
      p_kind: a.kind,
      p_external_id: a.externalId,
      p_credentials: a.credentials ?? undefined,
      p_display_name: a.displayName,
      p_routing: a.routing,
      p_settings: a.settings,
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new HttpError(
        409,
        "TENANTS.ACCOUNT_TAKEN",
        `This ${a.kind} account belongs to another tenant`,
        { field: ID_FIELD[a.kind] },
      );
    }
    throw err;
  }
}

/** A tenant and its accounts, all or nothing. */
export async function createTenant(
  sql: Sql,
  t: { slug: string; name: string; accounts?: AccountInput[] },
) {
  try {
    return await sql.begin(async (tx) => {
      const db = tx as unknown as Sql;
      const [row] = await db<TenantRow[]>`
        insert into public.tenants (slug, name) values (${t.slug}, ${t.name})
        returning id, slug, name, created_at, updated_at`;
      for (const a of t.accounts ?? []) await saveAccount(db, row.id, writeOf(a));
      return iso(row);
    });
  } catch (err) {
    if (
      isUniqueViolation(err) &&
      (err as { constraint_name?: string }).constraint_name === "tenants_slug_key"
    ) {
      throw new HttpError(409, "TENANTS.SLUG_TAKEN", `A tenant with slug ${t.slug} exists`, {
        field: "slug",
      });
    }
    throw err;
  }
}

export async function setAccountDisabled(
  sql: Sql,
  tenantId: string,
  accountId: string,
  disabled: boolean,
) {
  const found = await rpcValue(sql, "set_channel_account_disabled", {
    p_tenant_id: tenantId,
    p_account_id: accountId,
    p_disabled: disabled,
  });
  if (!found) throw accountNotFound();
}

export const dashboardOf = (sql: Sql, tenantId: string) =>
  rpcValue(sql, "tenant_dashboard", { p_tenant_id: tenantId });
