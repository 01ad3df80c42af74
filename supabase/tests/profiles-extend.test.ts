import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyBootstrap,
  applyMigrations,
  createTestDatabase,
  type TestDatabase,
} from "../../tests/support/db.ts";

/** A project that already has Supabase's starter `profiles` table keeps it, extended. */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  await applyBootstrap(db.sql);
  await db.sql`
    create table public.profiles (
      id uuid primary key,
      username text unique,
      avatar_url text,
      updated_at timestamptz
    )`;
  await db.sql`
    insert into public.profiles (id, username) values ('6f1c1d5e-8f53-4a53-9d0f-4c3c2b1a0e99', 'ada')`;
  await applyMigrations(db.sql);
});
afterAll(() => db?.close());

describe("an existing profiles table", () => {
  it("keeps its rows and columns and gains ours", async () => {
    const [ada] = await db.sql`select * from public.profiles where username = 'ada'`;
    expect(ada).toMatchObject({
      id: "6f1c1d5e-8f53-4a53-9d0f-4c3c2b1a0e99",
      phone_number: null,
      allows_sms: true,
    });
  });

  it("serves get-or-create, which inserts profiles by phone alone", async () => {
    const [s] = await db
      .sql`select * from public.get_or_create_omnichannel_session('+250788600001', 'sms')`;
    expect(s.is_new).toBe(true);
    await expect(db.sql`select * from public.get_or_create_omnichannel_session('12345', 'sms')`)
      .rejects
      .toMatchObject({ code: "23514" });
  });
});
