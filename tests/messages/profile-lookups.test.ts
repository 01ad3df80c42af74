/**
 * profile_survivor and profile_identity (PL/pgSQL since 20261202101800, for plans kept per
 * connection): a merged profile answers with the profile that absorbed it, through a chain of
 * merges, and a person's address on a kind is their newest one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("profile lookups", () => {
  it("follow merges to the survivor and answer with its newest address of the kind", async () => {
    const [a] = await db.sql<{ id: string }[]>`
      insert into public.profiles (phone_number) values ('+250788000101') returning id`;
    const [b] = await db.sql<{ id: string }[]>`
      insert into public.profiles (merged_into) values (${a.id}) returning id`;
    const [c] = await db.sql<{ id: string }[]>`
      insert into public.profiles (merged_into) values (${b.id}) returning id`;
    await db.sql`insert into public.profile_identities (kind, value, profile_id, created_at) values
      ('email', 'old@example.com', ${a.id}, now() - interval '1 day'),
      ('email', 'new@example.com', ${a.id}, now())`;
    const [r] = await db.sql`select
        public.profile_survivor(${c.id}) as survivor,
        public.profile_identity(${c.id}, 'email') as email,
        public.profile_identity(${c.id}, 'phone') as phone,
        public.profile_identity(${c.id}, 'messenger') as messenger,
        public.profile_identity(${a.id}, 'email') as own_email,
        public.profile_survivor('00000000-0000-4000-8000-00000000f00d') as unknown,
        public.profile_identity(null, 'email') as none`;
    expect(r).toEqual({
      survivor: a.id,
      email: "new@example.com",
      phone: "+250788000101",
      messenger: null,
      own_email: "new@example.com",
      unknown: null,
      none: null,
    });
  });
});
