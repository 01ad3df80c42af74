import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { HttpError, methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { validated } from "../http/validated.ts";
import type { Logger } from "../log/logger.ts";
import {
  accountNotFound,
  createTenant,
  dashboardOf,
  getTenant,
  listAccounts,
  listTenants,
  publicAccount,
  renameTenant,
  saveAccount,
  setAccountDisabled,
  writeOf,
} from "./admin.ts";
import { AccountInput, AccountUpdate, TenantOnboard, TenantUpdate } from "./schemas.ts";
import { checkCredentials, type CredentialCheckConfig } from "./verify-credentials.ts";

export interface TenantsDeps {
  sql: Sql;
  logger: Logger;
  auth: AuthConfig;
  checks: CredentialCheckConfig;
}

/** Any UUID-shaped id (the default tenant's, 00000000-…-000000000001, is not an RFC 4122 one). */
const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

/**
 * `tenants`: the admin API for tenants and their channel accounts (the console's portal, or a
 * hosted one), secret key (or legacy service role) only. Every credential is checked live with
 * its provider before it is saved, is stored in Vault, and never comes back: accounts show which
 * credential fields are set, nothing more. Routes are in docs/tenants.md.
 */
export function createTenantsHandler(deps: TenantsDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    await authenticate(req, deps.auth);
    const path = subPath(new URL(req.url).pathname);
    const ctx = { deps, req, correlationId };
    if (path.length === 0) return await root(ctx);
    if (path.length === 1 && path[0] === "check") return await check(ctx);
    const tenantId = path[0];
    if (!Uuid.safeParse(tenantId).success) throw notFound();
    if (path.length === 1) return await oneTenant(ctx, tenantId);
    if (path.length === 2 && path[1] === "dashboard") {
      allow(req, ["GET"]);
      await getTenant(deps.sql, tenantId);
      return json(await dashboardOf(deps.sql, tenantId));
    }
    if (path[1] === "accounts" && path.length === 2) return await addAccount(ctx, tenantId);
    if (path[1] === "accounts" && path.length === 3 && Uuid.safeParse(path[2]).success) {
      return await updateAccount(ctx, tenantId, path[2]);
    }
    throw notFound();
  });
}

interface Ctx {
  deps: TenantsDeps;
  req: Request;
  correlationId: string;
}

const notFound = () => new HttpError(404, "HTTP.NOT_FOUND", "No such route");

function allow(req: Request, methods: string[]) {
  if (!methods.includes(req.method)) throw methodNotAllowed(methods);
}

async function body<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  return validated(schema, parseJson(await readRawBody(req)));
}

/** Live check, logged by outcome only (kind and code: never a credential). */
async function checked(ctx: Ctx, a: AccountInput) {
  try {
    return await checkCredentials(a, ctx.deps.checks);
  } catch (err) {
    if (err instanceof HttpError) {
      ctx.deps.logger.warn("CHANNEL_ACCOUNT_CHECK_FAILED", {
        correlation_id: ctx.correlationId,
        kind: a.kind,
        code: err.code,
        field: err.details?.field,
      });
    }
    throw err;
  }
}

async function root(ctx: Ctx) {
  const { deps, req } = ctx;
  allow(req, ["GET", "POST"]);
  if (req.method === "GET") return json({ tenants: await listTenants(deps.sql) });
  const input = await body(req, TenantOnboard);
  const checks = [];
  for (const a of input.accounts ?? []) checks.push({ kind: a.kind, ...await checked(ctx, a) });
  const tenant = await createTenant(deps.sql, input);
  deps.logger.info("TENANT_CREATED", {
    correlation_id: ctx.correlationId,
    tenant_id: tenant.id,
    slug: tenant.slug,
    accounts: input.accounts?.length ?? 0,
  });
  const accounts = (await listAccounts(deps.sql, tenant.id)).map(publicAccount);
  return json({ tenant, accounts, checks }, 201);
}

async function check(ctx: Ctx) {
  allow(ctx.req, ["POST"]);
  const input = await body(ctx.req, AccountInput);
  return json({ ok: true, kind: input.kind, checked: await checked(ctx, input) });
}

async function oneTenant(ctx: Ctx, id: string) {
  const { deps, req } = ctx;
  allow(req, ["GET", "PATCH"]);
  const tenant = req.method === "GET"
    ? await getTenant(deps.sql, id)
    : await renameTenant(deps.sql, id, (await body(req, TenantUpdate)).name);
  const accounts = (await listAccounts(deps.sql, id)).map(publicAccount);
  return json({ tenant, accounts });
}

async function addAccount(ctx: Ctx, tenantId: string) {
  const { deps, req } = ctx;
  allow(req, ["GET", "POST"]);
  await getTenant(deps.sql, tenantId);
  if (req.method === "GET") {
    return json({ accounts: (await listAccounts(deps.sql, tenantId)).map(publicAccount) });
  }
  const input = await body(req, AccountInput);
  const result = await checked(ctx, input);
  const id = await saveAccount(deps.sql, tenantId, writeOf(input));
  deps.logger.info("CHANNEL_ACCOUNT_SAVED", {
    correlation_id: ctx.correlationId,
    tenant_id: tenantId,
    account_id: id,
    kind: input.kind,
  });
  const account = (await listAccounts(deps.sql, tenantId)).find((a) => a.id === id)!;
  return json({ account: publicAccount(account), checked: result }, 201);
}

/** New credentials for an account, checked as its kind's full input would be. */
function credentialsInput(
  a: { kind: string; external_id: string; settings: unknown },
  change: z.infer<typeof AccountUpdate>,
): AccountInput {
  const id = { whatsapp: "phone_number_id", genesys: "integration_id", messenger: "page_id" }[
    a.kind
  ];
  if (!id) {
    throw new HttpError(422, "TENANTS.KIND_NOT_MANAGED", `${a.kind} accounts are not managed here`);
  }
  return validated(AccountInput, {
    kind: a.kind,
    [id]: a.external_id,
    credentials: change.credentials,
    ...(a.kind === "genesys" ? { settings: change.settings ?? a.settings } : {}),
  });
}

async function updateAccount(ctx: Ctx, tenantId: string, accountId: string) {
  const { deps, req } = ctx;
  allow(req, ["PATCH"]);
  const change = await body(req, AccountUpdate);
  const current = (await listAccounts(deps.sql, tenantId)).find((a) => a.id === accountId);
  if (!current) throw accountNotFound();
  const input = change.credentials ? credentialsInput(current, change) : null;
  const result = input ? await checked(ctx, input) : {};
  await saveAccount(deps.sql, tenantId, {
    kind: current.kind,
    externalId: current.external_id,
    credentials: input?.credentials ?? null,
    displayName: change.display_name,
    routing: change.routing,
    settings: current.kind === "genesys" ? change.settings : undefined,
  });
  if (change.disabled !== undefined) {
    await setAccountDisabled(deps.sql, tenantId, accountId, change.disabled);
  }
  deps.logger.info("CHANNEL_ACCOUNT_UPDATED", {
    correlation_id: ctx.correlationId,
    tenant_id: tenantId,
    account_id: accountId,
    credentials: input ? "replaced" : "kept",
    disabled: change.disabled,
  });
  const account = (await listAccounts(deps.sql, tenantId)).find((a) => a.id === accountId)!;
  return json({ account: publicAccount(account), checked: result });
}

/** The path below the function's name: `/tenants/<id>/accounts` → `[<id>, "accounts"]`. */
function subPath(pathname: string): string[] {
  const parts = pathname.split("/").filter(Boolean);
  const at = parts.indexOf("tenants");
  return at === -1 ? parts : parts.slice(at + 1);
}
