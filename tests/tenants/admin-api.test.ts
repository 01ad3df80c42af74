/**
 * The `tenants` admin function, in-process on a test database, with the provider sandbox (served
 * over real HTTP) answering the live credential checks as Meta and Genesys do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { createTenantsHandler } from "../../supabase/functions/_shared/tenants/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_tenants_test_0123456789abcdef";
const BASE = "http://localhost/functions/v1/tenants";

let db: TestDatabase;
let sandbox: Sandbox;
let provider: Served;
const log = memoryLogger();
/** Every body the function answered, to assert no credential ever left it. */
const answered: string[] = [];
let handler: (req: Request) => Promise<Response>;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = createSandbox({ statusCallbacks: false });
  provider = await serve(sandbox.handler);
  handler = createTenantsHandler({
    sql: db.sql,
    logger: log,
    auth: secretKeyAuth("tenants", SECRET_KEY),
    checks: {
      whatsappApiBaseUrl: `${provider.url}/whatsapp/v21.0`,
      metaGraphBaseUrl: `${provider.url}/meta/v21.0`,
      genesysLoginBaseUrl: `${provider.url}/genesys`,
      timeoutMs: 2_000,
      fetch,
    },
  });
});
afterAll(async () => {
  await provider?.close();
  await sandbox?.close();
  await db?.close();
});

async function call(method: string, path = "", body?: unknown, key: string | null = SECRET_KEY) {
  const res = await handler(
    new Request(`${BASE}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const text = await res.text();
  answered.push(text);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const whatsapp = (number: string, token: string = C.whatsappAccessToken) => ({
  kind: "whatsapp",
  phone_number_id: number,
  routing: "agent",
  credentials: { access_token: token, app_secret: `app-secret-of-${number}` },
});
const genesys = (secret: string = C.genesysClientSecret, login?: string) => ({
  kind: "genesys",
  integration_id: crypto.randomUUID(),
  ...(login ? { settings: { login_base_url: login } } : {}),
  credentials: {
    client_id: C.genesysClientId,
    client_secret: secret,
    webhook_secret: "genesys-webhook-secret-xyz",
  },
});

describe("tenants admin API", () => {
  it("refuses a caller without the secret key", async () => {
    expect((await call("GET", "", undefined, null)).status).toBe(401);
    expect((await call("GET", "", undefined, "sb_publishable_nope")).status).toBe(401);
  });

  it("onboards a tenant with its Genesys and WhatsApp accounts, each checked live", async () => {
    const before = sandbox.genesys.tokenRequests;
    const res = await call("POST", "", {
      slug: "acme",
      name: "Acme Ltd",
      accounts: [genesys(), whatsapp("200000000000001")],
    });
    expect(res.status).toBe(201);
    expect(sandbox.genesys.tokenRequests).toBe(before + 1);
    expect(res.body.tenant).toMatchObject({ slug: "acme", name: "Acme Ltd" });
    expect(res.body.checks).toEqual([
      { kind: "genesys", token: "issued" },
      {
        kind: "whatsapp",
        verified_name: "Sandbox Business",
        display_phone_number: "+1 555 000 0001",
      },
    ]);
    const wa = res.body.accounts.find((a: { kind: string }) => a.kind === "whatsapp");
    expect(wa).toMatchObject({
      external_id: "200000000000001",
      routing: "agent",
      credentials: { access_token: "set", app_secret: "set" },
      disabled: false,
    });
    // Stored in Vault, resolvable by the webhooks.
    const [r] = await db
      .sql`select * from public.resolve_channel_account('whatsapp', '200000000000001')`;
    expect(r.tenant_id).toBe(res.body.tenant.id);
    expect(r.credentials.app_secret).toBe("app-secret-of-200000000000001");
  });

  it("a refused WhatsApp token is a 422 naming the field, and nothing is saved", async () => {
    const res = await call("POST", "", {
      slug: "badwa",
      name: "Bad WA",
      accounts: [whatsapp("200000000000002", "wrong-token")],
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: "TENANTS.CREDENTIALS_REJECTED",
      field: "credentials.access_token",
    });
    const [n] = await db.sql`select count(*)::int as n from public.tenants where slug = 'badwa'`;
    expect(n.n).toBe(0);
  });

  it("a phone number id the token cannot read is a 422 naming phone_number_id", async () => {
    const res = await call("POST", "/check", {
      ...whatsapp("200000000000003"),
      phone_number_id: "123456",
    });
    expect(res.status).toBe(422);
    expect(res.body.error.field).toBe("phone_number_id");
  });

  it("refused Genesys client credentials are a 422; an unreachable login host is a 502", async () => {
    const refused = await call("POST", "/check", genesys("wrong-secret"));
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({
      code: "TENANTS.CREDENTIALS_REJECTED",
      field: "credentials.client_secret",
    });
    const down = await call("POST", "/check", genesys(C.genesysClientSecret, "http://127.0.0.1:9"));
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe("TENANTS.PROVIDER_UNREACHABLE");
  });

  it("lists, renames, adds, updates and disables; a disabled number is unknown to the webhooks", async () => {
    const created = await call("POST", "", { slug: "globex", name: "Globex" });
    expect(created.status).toBe(201);
    const id = created.body.tenant.id;
    const added = await call("POST", `/${id}/accounts`, whatsapp("200000000000004"));
    expect(added.status).toBe(201);
    const accountId = added.body.account.id;

    const routed = await call("PATCH", `/${id}/accounts/${accountId}`, { routing: "ai" });
    expect(routed.body.account.routing).toBe("ai");
    const rotated = await call("PATCH", `/${id}/accounts/${accountId}`, {
      credentials: { access_token: C.whatsappAccessToken, app_secret: "rotated-secret" },
    });
    expect(rotated.status).toBe(200);
    const [r] = await db
      .sql`select * from public.resolve_channel_account('whatsapp', '200000000000004')`;
    expect(r.credentials.app_secret).toBe("rotated-secret");
    const badRotation = await call("PATCH", `/${id}/accounts/${accountId}`, {
      credentials: { access_token: "expired", app_secret: "x" },
    });
    expect(badRotation.status).toBe(422);

    const off = await call("PATCH", `/${id}/accounts/${accountId}`, { disabled: true });
    expect(off.body.account.disabled).toBe(true);
    expect(
      await db.sql`select * from public.resolve_channel_account('whatsapp', '200000000000004')`,
    )
      .toHaveLength(0);

    expect((await call("PATCH", `/${id}`, { name: "Globex Corp" })).body.tenant.name)
      .toBe("Globex Corp");
    const list = await call("GET");
    expect(list.body.tenants.map((t: { slug: string }) => t.slug)).toEqual(
      expect.arrayContaining(["default", "acme", "globex"]),
    );
    const one = await call("GET", `/${id}`);
    expect(one.body.accounts).toHaveLength(1);
    const byDefault = await call("GET", "/00000000-0000-0000-0000-000000000001");
    expect(byDefault.body.tenant.slug).toBe("default");
  });

  it("answers with clear errors: bad body 400, unknown tenant 404, taken slug or number 409", async () => {
    expect((await call("POST", "", { slug: "Not A Slug", name: "x" })).body.error).toMatchObject({
      code: "VALIDATION.INVALID_BODY",
      field: "slug",
    });
    expect((await call("GET", `/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call("GET", "/not-a-uuid")).status).toBe(404);
    expect((await call("POST", "", { slug: "acme", name: "Again" })).status).toBe(409);
    const other = await call("POST", "", { slug: "initech", name: "Initech" });
    const taken = await call(
      "POST",
      `/${other.body.tenant.id}/accounts`,
      whatsapp("200000000000001"),
    );
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({
      code: "TENANTS.ACCOUNT_TAKEN",
      field: "phone_number_id",
    });
    expect((await call("DELETE", "")).status).toBe(405);
  });

  it("the dashboard counts the tenant's conversations, today's messages and handoffs waiting", async () => {
    const [t] = await db.sql`select id from public.tenants where slug = 'acme'`;
    const empty = await call("GET", `/${t.id}/dashboard`);
    expect(empty.body).toEqual({
      conversations: {},
      messages_today: [],
      recent_conversations: [],
      handoffs_waiting: 0,
      handoffs_with_agent: 0,
    });
    // A person writes to acme's number twice; another writes to the default tenant's.
    const write = (from: string, wamid: string, number: string) =>
      db.sql`select * from public.record_inbound_message(p_channel => 'whatsapp',
        p_sender => ${from}, p_provider => 'whatsapp', p_provider_message_id => ${wamid},
        p_body => 'hello', p_metadata => ${
        db.sql.json({ business: { phone_number_id: number } })
      })`;
    const [first] = await write("+250788600001", "wamid.dash-1", "200000000000001");
    await write("+250788600001", "wamid.dash-2", "200000000000001");
    await write("+250788600002", "wamid.dash-3", "999000000000001");
    const [row] = await db.sql`select session_id from public.message_delivery_log
      where provider_message_id = 'wamid.dash-1'`;
    // Bridged to Genesys (an agent-routed number's mapping) is not a handoff; a handoff is.
    await db.sql`insert into public.genesys_conversations
      (integration_id, whatsapp_id, tenant_id, session_id, state)
      values ('INT-DASH', '250788600001', ${t.id}, ${row.session_id}, 'agent')`;
    await db.sql`insert into public.conversation_handoffs
      (tenant_id, session_id, whatsapp_id, requested_by, reason)
      values (${t.id}, ${row.session_id}, '+250788600001', 'person', 'asked for a human')`;
    expect(first).toBeTruthy();

    const res = await call("GET", `/${t.id}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      conversations: { active: 1 },
      messages_today: [{ direction: "inbound", channel: "whatsapp", count: 2 }],
      recent_conversations: [{ phone_number: "+250788600001", status: "active" }],
      handoffs_waiting: 1,
      handoffs_with_agent: 0,
    });
    await db.sql`update public.conversation_handoffs set state = 'agent', agent_joined_at = now()
      where session_id = ${row.session_id}`;
    const joined = await call("GET", `/${t.id}/dashboard`);
    expect(joined.body).toMatchObject({ handoffs_waiting: 0, handoffs_with_agent: 1 });
  });

  it("no credential appears in any answer or log line", () => {
    const secrets = [
      C.whatsappAccessToken,
      C.genesysClientSecret,
      "app-secret-of-200000000000001",
      "genesys-webhook-secret-xyz",
      "rotated-secret",
      "wrong-secret",
      "wrong-token",
    ];
    const logged = JSON.stringify(log.lines);
    for (const s of secrets) {
      for (const a of answered) expect(a).not.toContain(s);
      expect(logged).not.toContain(s);
    }
    expect(log.lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(["TENANT_CREATED", "CHANNEL_ACCOUNT_CHECK_FAILED"]),
    );
  });
});
