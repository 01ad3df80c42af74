import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

const DEFAULT_TENANT = "00000000-0000-0000-0000-000000000001";

async function tenant(slug: string): Promise<string> {
  const [t] = await db.sql<{ id: string }[]>`
    insert into public.tenants (slug, name) values (${slug}, ${slug}) returning id`;
  return t.id;
}

describe("channel accounts and Vault", () => {
  it("the default tenant exists for the env-configured providers", async () => {
    const [t] = await db.sql`select slug from public.tenants where id = ${DEFAULT_TENANT}`;
    expect(t.slug).toBe("default");
  });

  it("credentials are stored encrypted in vault.secrets and come back only through Vault", async () => {
    const id = await tenant("acme");
    const [{ account }] = await db.sql`
      select public.save_channel_account(p_tenant_id => ${id}, p_kind => 'whatsapp',
        p_external_id => 'PN-ACME', p_credentials => ${
      db.sql.json({ access_token: "EAAG-acme-token", app_secret: "acme-app-secret" })
    }) as account`;
    const [row] = await db.sql`select * from public.channel_accounts where id = ${account}`;
    expect(JSON.stringify(row)).not.toContain("acme-app-secret");
    const [secret] = await db
      .sql`select secret from vault.secrets where id = ${row.credentials_secret_id}`;
    expect(secret.secret).not.toContain("acme");

    const [resolved] = await db
      .sql`select * from public.resolve_channel_account('whatsapp', 'PN-ACME')`;
    expect(resolved).toMatchObject({
      account_id: account,
      tenant_id: id,
      routing: "ai",
      credentials: { access_token: "EAAG-acme-token", app_secret: "acme-app-secret" },
    });
  });

  it("saving again updates the same secret; null credentials keep them", async () => {
    const id = await tenant("beta");
    const save = (creds: unknown) =>
      db.sql`select public.save_channel_account(p_tenant_id => ${id}, p_kind => 'genesys',
        p_external_id => 'INT-B', p_routing => 'agent', p_credentials => ${
        creds === null ? null : db.sql.json(creds as never)
      }) as account`;
    await save({ client_id: "c1", client_secret: "s1" });
    await save({ client_id: "c1", client_secret: "s2" });
    await save(null);
    const [r] = await db.sql`select * from public.tenant_channel_account(${id}, 'genesys')`;
    expect(r).toMatchObject({ external_id: "INT-B", routing: "agent" });
    expect(r.credentials).toEqual({ client_id: "c1", client_secret: "s2" });
    const [n] = await db
      .sql`select count(*)::int as n from vault.secrets where name like 'channel_account:%'
      and name = 'channel_account:' || ${r.account_id}`;
    expect(n.n).toBe(1);
  });

  it("an account never moves to another tenant by being saved again", async () => {
    const a = await tenant("owner-a");
    const b = await tenant("owner-b");
    await db
      .sql`select public.save_channel_account(p_tenant_id => ${a}, p_kind => 'whatsapp', p_external_id => 'PN-OWNED')`;
    await expect(
      db.sql`select public.save_channel_account(p_tenant_id => ${b}, p_kind => 'whatsapp', p_external_id => 'PN-OWNED')`,
    ).rejects.toThrow(/belongs to another tenant/);
  });

  it("an unknown number resolves to nothing", async () => {
    expect(await db.sql`select * from public.resolve_channel_account('whatsapp', 'PN-NOBODY')`)
      .toHaveLength(0);
  });

  it("no API role can read a credential, even through the functions it may call", async () => {
    await db.sql.begin(async (tx) => {
      await tx`set local role authenticated`;
      await expect(tx`select * from vault.decrypted_secrets`).rejects.toThrow(/permission denied/);
    }).catch((err) => expect(String(err)).toMatch(/permission denied/));
    for (const role of ["anon", "authenticated"]) {
      const [r] = await db.sql`select has_function_privilege(${role},
        'public.resolve_channel_account(text, text)', 'execute') as can`;
      expect(r.can, role).toBe(false);
    }
  });
});

describe("OAuth token cache", () => {
  const claim = (key: string) =>
    db.sql<{ access_token: string | null; refresh: boolean }[]>`
      select * from public.claim_oauth_token(p_token_key => ${key})`;

  it("eight concurrent claims on a cold key grant one refresh; the others wait for its token", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => claim("genesys:race")));
    expect(results.filter(([r]) => r.refresh)).toHaveLength(1);
    expect(results.filter(([r]) => r.access_token)).toHaveLength(0);
    await db.sql`select public.store_oauth_token('genesys:race', 'tok-1', 86400)`;
    const after = await Promise.all(Array.from({ length: 8 }, () => claim("genesys:race")));
    expect(after.map(([r]) => r.access_token)).toEqual(Array(8).fill("tok-1"));
    const [t] = await db
      .sql`select refreshes from public.oauth_tokens where token_key = 'genesys:race'`;
    expect(Number(t.refreshes)).toBe(1);
  });

  it("a refused token is forgotten only while it is current; a failed request frees the lease", async () => {
    await db.sql`select public.store_oauth_token('genesys:401', 'tok-new', 86400)`;
    await db.sql`select public.forget_oauth_token('genesys:401', 'tok-old')`;
    expect((await claim("genesys:401"))[0].access_token).toBe("tok-new");
    await db.sql`select public.forget_oauth_token('genesys:401', 'tok-new')`;
    expect((await claim("genesys:401"))[0].refresh).toBe(true);
    expect((await claim("genesys:401"))[0].refresh).toBe(false);
    await db.sql`select public.forget_oauth_token('genesys:401')`;
    expect((await claim("genesys:401"))[0].refresh).toBe(true);
  });

  it("a token close to its expiry is refreshed, not handed out", async () => {
    await db.sql`select public.store_oauth_token('genesys:old', 'tok-short', 30)`;
    expect((await claim("genesys:old"))[0]).toMatchObject({ access_token: null, refresh: true });
  });
});
