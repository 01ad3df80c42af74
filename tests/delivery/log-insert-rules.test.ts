/**
 * What the delivery log does to a row as it is written, whoever writes it: a queued message to a
 * person who opted out of its channel (or to a suppressed email address) is written blocked with
 * the reason, the row's status gets its first timestamp, and the row takes its conversation's
 * tenant, the person being linked to that tenant. Since 20261202102000 one trigger does all of
 * it, in the order the three it replaced ran in; these rows are what a writer and the console
 * see either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let tenant: string;
let person: string;
let conversation: string;
beforeAll(async () => {
  db = await createTestDatabase();
  [{ id: tenant }] = await db.sql`insert into public.tenants (slug, name)
    values ('acme', 'Acme') returning id`;
  [{ id: person }] = await db.sql`insert into public.profiles (phone_number, allows_sms)
    values ('+250788500001', false) returning id`;
  [{ id: conversation }] = await db.sql`insert into public.omnichannel_sessions
    (profile_id, status, tenant_id) values (${person}, 'active', ${tenant}) returning id`;
});
afterAll(() => db?.close());

type Row = {
  status: string;
  error_code: string | null;
  queued: boolean;
  leased: boolean;
  tenant_id: string;
};
async function write(values: {
  channel: string;
  recipient: string;
  session?: string | null;
  profile?: string | null;
  error_code?: string | null;
}): Promise<Row> {
  const [row] = await db.sql<Row[]>`insert into public.message_delivery_log
      (channel, direction, status, recipient, session_id, profile_id, error_code, leased_until)
    values (${values.channel}, 'outbound', 'queued', ${values.recipient},
            ${values.session ?? null}, ${values.profile ?? null}, ${values.error_code ?? null},
            now() + interval '2 minutes')
    returning status, error_code, queued_at is not null as queued,
              leased_until is not null as leased, tenant_id`;
  return row;
}

describe("a row written to the delivery log", () => {
  it("to a person who opted out of SMS is blocked, never stamped queued, in its conversation's tenant", async () => {
    expect(
      await write({
        channel: "sms",
        recipient: "+250788500001",
        session: conversation,
        profile: person,
      }),
    ).toEqual({
      status: "blocked",
      error_code: "SMS.OPTED_OUT",
      queued: false,
      leased: false,
      tenant_id: tenant,
    });
    const links = await db.sql`select tenant_id from public.tenant_profiles
      where profile_id = ${person}`;
    expect(links.map((l) => l.tenant_id)).toContain(tenant);
  });

  it("by phone number alone is blocked too when that number opted out", async () => {
    expect(await write({ channel: "sms", recipient: "+250788500001" })).toMatchObject({
      status: "blocked",
      error_code: "SMS.OPTED_OUT",
      tenant_id: "00000000-0000-0000-0000-000000000001",
    });
  });

  it("on a channel the person still allows is queued, stamped and leased", async () => {
    expect(
      await write({
        channel: "whatsapp",
        recipient: "+250788500001",
        session: conversation,
        profile: person,
      }),
    ).toEqual({
      status: "queued",
      error_code: null,
      queued: true,
      leased: true,
      tenant_id: tenant,
    });
  });

  it("as an email to a bounced address is blocked as undeliverable", async () => {
    await db.sql`insert into public.email_suppressions (address, reason)
      values ('gone@example.com', 'bounced')`;
    expect(await write({ channel: "email", recipient: "Gone@Example.com" })).toMatchObject({
      status: "blocked",
      error_code: "EMAIL.UNDELIVERABLE",
      queued: false,
      leased: false,
    });
  });

  it("as an email to an address nobody suppressed stays queued, whatever error code it carries", async () => {
    expect(
      await write({
        channel: "email",
        recipient: "fine@example.com",
        error_code: "EMAIL.OPTED_OUT",
      }),
    ).toMatchObject({
      status: "queued",
      error_code: "EMAIL.OPTED_OUT",
      queued: true,
      leased: true,
    });
  });
});

/**
 * Since 20261202102200 the status guard skips the updates that already are what it would make
 * them (a forward move to sent, delivered or read with its stamp, and updated_at set): any other
 * update still goes through it, whoever the writer and whatever it sets.
 */
describe("a row's status, updated by a writer that sets updated_at itself", () => {
  const queuedRow = async (): Promise<string> => {
    const [{ id }] = await db.sql`insert into public.message_delivery_log
        (channel, direction, status, recipient)
      values ('whatsapp', 'outbound', 'queued', '+250788500009') returning id`;
    return id;
  };
  const move = async (id: string, status: string) => {
    const [row] = await db.sql`update public.message_delivery_log
      set status = ${status}, updated_at = now() + interval '1 second'
      where id = ${id}
      returning status, sent_at is not null as sent, delivered_at is not null as delivered,
                read_at is not null as read, failed_at is not null as failed`;
    return row;
  };

  it("never moves it backwards", async () => {
    const id = await queuedRow();
    expect(await move(id, "read")).toMatchObject({ status: "read", read: true });
    expect(await move(id, "delivered")).toMatchObject({ status: "read", delivered: false });
  });

  it("still gets the stamp of a forward move it did not stamp", async () => {
    const id = await queuedRow();
    expect(await move(id, "delivered")).toEqual({
      status: "delivered",
      sent: false,
      delivered: true,
      read: false,
      failed: false,
    });
    expect(await move(id, "failed")).toMatchObject({ status: "delivered", failed: false });
  });
});
