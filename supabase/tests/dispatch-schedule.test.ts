import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("schedule_dispatch", () => {
  it("refuses a URL that is not one and a key that is not one", async () => {
    await expect(db.sql`select public.schedule_dispatch('not a url', ${"k".repeat(40)})`)
      .rejects.toThrow(/functions base URL/);
    await expect(
      db.sql`select public.schedule_dispatch('https://x.supabase.co/functions/v1', 'short')`,
    )
      .rejects.toThrow(/secret key/);
  });

  it("sends the secret key from Vault in the apikey header, never a legacy Bearer key", async () => {
    const [{ job }] = await db.sql`select public.dispatch_job_command() as job`;
    expect(job).toMatch(
      /'apikey',\s*\(select decrypted_secret from vault\.decrypted_secrets\s+where name = 'omnichannel_secret_key'\)/,
    );
    expect(job).not.toMatch(/Authorization|service_role/i);
  });

  it("says which extensions are missing instead of scheduling nothing silently", async () => {
    const [{ missing }] = await db.sql`
      select array_agg(e order by e) as missing from unnest(array['pg_cron', 'pg_net', 'supabase_vault']) e
      where not exists (select 1 from pg_extension x where x.extname = e)`;
    expect(missing?.length ?? 0).toBeGreaterThan(0); // neither PGlite nor the CI PostgreSQL has pg_net
    const err = await db
      .sql`select public.schedule_dispatch('https://x.supabase.co/functions/v1', ${"k".repeat(40)})`
      .catch((e) => e);
    expect(err.code).toBe("55000");
    for (const ext of missing) expect(err.message).toContain(ext);
  });
});
