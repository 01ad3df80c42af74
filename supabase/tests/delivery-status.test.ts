import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
let sql: Sql;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

/** Logs an outbound WhatsApp message through each status in turn; returns the final row. */
async function statuses(...list: string[]) {
  const id = `wamid.STATUS${++seq}`;
  let row;
  for (const status of list) {
    [row] = await sql`
      select * from public.log_message_delivery('whatsapp', 'outbound', ${status},
        p_provider_message_id => ${id})`;
  }
  return row!;
}

describe("message_delivery_log status only moves forward", () => {
  it("walks queued, sent, delivered, read and stamps each step", async () => {
    const row = await statuses("queued", "sent", "delivered", "read");
    expect(row.status).toBe("read");
    for (const column of ["queued_at", "sent_at", "delivered_at", "read_at"]) {
      expect(row[column]).toBeInstanceOf(Date);
    }
  });

  it("keeps read when a late delivered arrives, without an error", async () => {
    const row = await statuses("sent", "read", "delivered");
    expect(row.status).toBe("read");
    expect(row.delivered_at).toBeNull();
  });

  it("skips ahead: sent straight to read", async () => {
    const row = await statuses("sent", "read");
    expect(row.status).toBe("read");
  });

  it("treats failed as final", async () => {
    const row = await statuses("sent", "failed", "delivered", "read", "sent");
    expect(row.status).toBe("failed");
    expect(row.failed_at).toBeInstanceOf(Date);
    expect(row.read_at).toBeNull();
  });

  it("does not fail a message that was already delivered", async () => {
    const row = await statuses("sent", "delivered", "failed");
    expect(row.status).toBe("delivered");
    expect(row.failed_at).toBeNull();
  });

  it("keeps read and attaches no error when a late WhatsApp failed arrives", async () => {
    const id = `wamid.LATEFAIL${++seq}`;
    await sql`select * from public.log_message_delivery('whatsapp', 'outbound', 'sent',
      p_provider_message_id => ${id})`;
    await sql`select * from public.record_delivery_status('whatsapp', ${id}, 'read')`;
    const [result] = await sql`
      select * from public.record_delivery_status('whatsapp', ${id}, 'failed', '131050',
        'Unable to deliver', 'permanent')`;
    expect(result).toMatchObject({
      matched: true,
      previous_status: "read",
      current_status: "read",
    });
    const [row] = await sql`
      select status, error_code, error_message, error_class, failed_at
      from public.message_delivery_log where provider_message_id = ${id}`;
    expect(row).toEqual({
      status: "read",
      error_code: null,
      error_message: null,
      error_class: null,
      failed_at: null,
    });
  });

  it("treats received and blocked as final, also for plain updates", async () => {
    const [inbound] = await sql`
      insert into public.message_delivery_log (channel, direction, status)
      values ('sms', 'inbound', 'received') returning id, received_at`;
    expect(inbound.received_at).toBeInstanceOf(Date);
    const [afterUpdate] = await sql`
      update public.message_delivery_log set status = 'read' where id = ${inbound.id} returning status`;
    expect(afterUpdate.status).toBe("received");

    const blocked = await statuses("queued", "blocked", "sent");
    expect(blocked.status).toBe("blocked");
  });
});
