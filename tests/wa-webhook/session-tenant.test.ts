/**
 * A new person's first message opens their session with its tenant: the session row is written
 * once. (It used to be inserted without one and updated by the message row's tenant trigger: a
 * second version of the row through all of the session table's indexes, for every conversation
 * a message opened.) The tenant is the one the message's row gets: the WhatsApp number's account,
 * else the default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

const DEFAULT_TENANT = "00000000-0000-0000-0000-000000000001";
let db: TestDatabase;
let tenant: string;
beforeAll(async () => {
  db = await createTestDatabase();
  const { sql } = db;
  [{ id: tenant }] = await sql`insert into public.tenants (slug, name)
    values ('session-tenant', 'Session tenant') returning id`;
  await sql`insert into public.channel_accounts (tenant_id, kind, external_id)
    values (${tenant}, 'whatsapp', '200000000000777')`;
  // Every update of a session row, as it happens.
  await sql.unsafe(`
    create table public.test_session_updates (session_id uuid, at timestamptz default clock_timestamp());
    create function public.test_count_session_update() returns trigger language plpgsql as $$
    begin insert into public.test_session_updates (session_id) values (new.id); return null; end $$;
    create trigger test_count_session_update after update on public.omnichannel_sessions
      for each row execute function public.test_count_session_update();`);
});
afterAll(() => db?.close());

async function receive(sender: string, id: string, phoneNumberId?: string) {
  const [row] = await db.sql`select * from public.record_inbound_message(
    'whatsapp', ${sender}, 'meta', ${id}, 'text', 'hello',
    ${db.sql.json(phoneNumberId ? { business: { phone_number_id: phoneNumberId } } : {})})`;
  const [session] = await db.sql`select tenant_id from public.omnichannel_sessions
    where id = ${row.session_id}`;
  const [message] = await db.sql`select tenant_id from public.message_delivery_log
    where id = ${row.delivery_id}`;
  const updates = await db.sql`select 1 from public.test_session_updates
    where session_id = ${row.session_id}`;
  return { session: session.tenant_id, message: message.tenant_id, updates: updates.length };
}

describe("the session a new person's message opens", () => {
  it("is written once, with the tenant of the number the message reached", async () => {
    expect(await receive("+250788300001", "wamid.session-tenant-1", "200000000000777"))
      .toEqual({ session: tenant, message: tenant, updates: 0 });
  });

  it("is written once, in the default tenant, for a number no tenant owns", async () => {
    expect(await receive("+250788300002", "wamid.session-tenant-2", "200000000000999"))
      .toEqual({ session: DEFAULT_TENANT, message: DEFAULT_TENANT, updates: 0 });
    expect(await receive("+250788300003", "wamid.session-tenant-3"))
      .toEqual({ session: DEFAULT_TENANT, message: DEFAULT_TENANT, updates: 0 });
  });

  it("stays with the tenant that opened it when the person writes to another tenant's number", async () => {
    const later = await receive("+250788300002", "wamid.session-tenant-4", "200000000000777");
    // The message is the number's tenant's; the conversation stays where it began.
    expect(later.session).toBe(DEFAULT_TENANT);
    expect(later.message).toBe(tenant);
  });
});
