import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("schema hygiene", () => {
  it("every function in public pins search_path to ''", async () => {
    // Procedures are exempt: PostgreSQL forbids COMMIT in a procedure with a SET clause, and the
    // batched cleanup procedure commits between batches (it qualifies every name instead).
    const functions = await db.sql`
      select p.proname, p.proconfig from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prokind <> 'p' order by 1`;
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions) {
      expect(fn.proconfig, fn.proname).toContain('search_path=""');
    }
  });

  it("no function in public is security definer", async () => {
    const definers = await db.sql`
      select proname from pg_proc where pronamespace = 'public'::regnamespace and prosecdef`;
    expect(definers).toEqual([]);
  });

  it("every table in public has row level security on", async () => {
    const tables = await db.sql`
      select c.relname, c.relrowsecurity from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') order by 1`;
    expect(tables.map((t) => t.relname)).toEqual(
      expect.arrayContaining([
        "profiles",
        "omnichannel_sessions",
        "message_delivery_log",
        "call_summaries",
        "scheduled_jobs",
      ]),
    );
    for (const t of tables) expect(t.relrowsecurity, t.relname).toBe(true);
  });

  it("no policy applies to all commands", async () => {
    const policies = await db.sql`
      select tablename, policyname from pg_policies where schemaname = 'public' and cmd = 'ALL'`;
    expect(policies).toEqual([]);
  });

  it("no function in public is executable by PUBLIC (every role, including ones added later)", async () => {
    // A NULL proacl is PostgreSQL's default, which is EXECUTE for PUBLIC.
    const open = await db.sql`
      select p.proname from pg_proc p
      where p.pronamespace = 'public'::regnamespace
        and (p.proacl is null or exists (
          select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE'))
      order by 1`;
    const allowed: string[] = []; // add a name here only with a comment saying why
    expect(open.map((f) => f.proname).filter((n) => !allowed.includes(n))).toEqual([]);
  });

  it("only service_role may execute the functions; sync_scheduled_jobs is for migrations only", async () => {
    const grants = await db.sql`
      select p.proname,
        has_function_privilege('anon', p.oid, 'execute') as anon,
        has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
        has_function_privilege('service_role', p.oid, 'execute') as service_role
      from pg_proc p where p.pronamespace = 'public'::regnamespace and p.prorettype <> 'trigger'::regtype`;
    for (const g of grants) {
      const serviceRole = g.proname !== "sync_scheduled_jobs";
      expect(g, g.proname).toMatchObject({
        anon: false,
        authenticated: false,
        service_role: serviceRole,
      });
    }
  });
});
