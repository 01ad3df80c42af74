import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase, withRollback } from "../support/db.ts";
import { createHarness, post, sign, withReplaced } from "./harness.ts";

/**
 * Two tenants, two WhatsApp numbers: people write to each through wa-webhook (the real handler
 * and inbox), then a client of each tenant reads as PostgREST would (`authenticated`, JWT claims
 * with app_metadata.tenant_id) and sees only its own conversations.
 */
let db: TestDatabase;
const tenants: Record<string, string> = {};
const NUMBERS = { acme: "PN-ISO-ACME", globex: "PN-ISO-GLOBEX" } as const;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [slug, number] of Object.entries(NUMBERS)) {
    const [t] = await db.sql<{ id: string }[]>`
      insert into public.tenants (slug, name) values (${`iso-${slug}`}, ${slug}) returning id`;
    tenants[slug] = t.id;
    await db.sql`select public.save_channel_account(p_tenant_id => ${t.id}, p_kind => 'whatsapp',
      p_external_id => ${number}, p_credentials => ${
      db.sql.json({ access_token: `${slug}-token`, app_secret: `${slug}-secret` })
    })`;
  }
  const h = createHarness({ db, vars: { WHATSAPP_PHONE_NUMBER_ID: "106540352242922" } });
  const write = async (slug: keyof typeof NUMBERS, from: string, wamid: string, text: string) => {
    const body = withReplaced("text", {
      "106540352242922": NUMBERS[slug],
      "16505551234": from,
      "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=": wamid,
      "Does it come in another color?": text,
    });
    const res = await h.handler(post(body, sign(body, `${slug}-secret`)));
    expect(res.status).toBe(200);
    await h.derived();
  };
  await write("acme", "16505557001", "wamid.iso-a1", "acme question");
  await write("globex", "16505557002", "wamid.iso-g1", "globex question");
  // The same person writes to both numbers.
  await write("acme", "16505557003", "wamid.iso-a2", "both: to acme");
  await write("globex", "16505557003", "wamid.iso-g2", "both: to globex");
  await h.settled();
});
afterAll(() => db?.close());

/** A PostgREST request of a tenant member: `set local role` plus the JWT claims, rolled back. */
function asMember<T>(tenantId: string | null, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return withRollback(db.sql, async (tx) => {
    const claims = JSON.stringify({
      sub: crypto.randomUUID(),
      role: "authenticated",
      app_metadata: tenantId ? { tenant_id: tenantId } : {},
    });
    await tx`select set_config('request.jwt.claims', ${claims}, true)`;
    await tx.unsafe("set local role authenticated");
    return await fn(tx);
  });
}

const read = (tx: Sql) =>
  Promise.all([
    tx<{ body: string }[]>`select body from public.message_delivery_log order by body`,
    tx<{ phone_number: string }[]>`select phone_number from public.profiles order by 1`,
    tx<{ tenant_id: string }[]>`select tenant_id from public.omnichannel_sessions`,
  ]).then(([messages, profiles, sessions]) => ({
    messages: messages.map((m) => m.body),
    profiles: profiles.map((p) => p.phone_number),
    sessions: sessions.map((s) => s.tenant_id),
  }));

describe("tenant isolation (resolution and RLS)", () => {
  it("each message is tagged with the tenant whose number it reached", async () => {
    const rows = await db.sql<{ body: string; tenant_id: string }[]>`
      select body, tenant_id from public.message_delivery_log
      where body in ('acme question', 'globex question', 'both: to acme', 'both: to globex')
      order by body`;
    expect(rows).toEqual([
      { body: "acme question", tenant_id: tenants.acme },
      { body: "both: to acme", tenant_id: tenants.acme },
      { body: "both: to globex", tenant_id: tenants.globex },
      { body: "globex question", tenant_id: tenants.globex },
    ]);
  });

  it("a member of tenant A sees only A's messages, people and sessions", async () => {
    const seen = await asMember(tenants.acme, read);
    expect(seen.messages).toEqual(["acme question", "both: to acme"]);
    expect(seen.profiles).toEqual(["+16505557001", "+16505557003"]);
    expect(seen.sessions.length).toBeGreaterThan(0);
    expect(new Set(seen.sessions)).toEqual(new Set([tenants.acme]));
  });

  it("a member of tenant B never sees A's conversation with a person they share", async () => {
    const seen = await asMember(tenants.globex, read);
    expect(seen.messages).toEqual(["both: to globex", "globex question"]);
    expect(seen.profiles).toEqual(["+16505557002", "+16505557003"]);
    expect(seen.sessions.every((t) => t === tenants.globex)).toBe(true);
    expect(seen.messages.join()).not.toContain("acme");
  });

  it("a client without a tenant claim, or with a malformed one, sees nothing", async () => {
    expect(await asMember(null, read)).toEqual({ messages: [], profiles: [], sessions: [] });
    expect(await asMember("not-a-uuid", read)).toEqual({
      messages: [],
      profiles: [],
      sessions: [],
    });
  });

  it("a tenant member cannot write or read the tenants' accounts", async () => {
    await expect(
      asMember(tenants.acme, (tx) => tx`update public.message_delivery_log set body = 'x'`),
    ).rejects.toMatchObject({
      code: "42501",
    });
    await expect(asMember(tenants.acme, (tx) => tx`select * from public.channel_accounts`))
      .rejects.toMatchObject({ code: "42501" });
  });
});
