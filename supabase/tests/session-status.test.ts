import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

async function newSession(phone: string): Promise<string> {
  const [row] =
    await sql`select session_id from public.get_or_create_omnichannel_session(${phone}, 'sms')`;
  return row.session_id;
}

describe("update_omnichannel_session_status", () => {
  it("closing stamps closed_at and frees the profile for a new session", async () => {
    const id = await newSession("+250788200001");
    const [closed] =
      await sql`select * from public.update_omnichannel_session_status(${id}, 'closed')`;
    expect(closed.status).toBe("closed");
    expect(closed.closed_at).toBeInstanceOf(Date);

    const next = await newSession("+250788200001");
    expect(next).not.toBe(id);
  });

  it("moving to follow_up or back to active extends the expiry", async () => {
    const id = await newSession("+250788200002");
    await sql`update public.omnichannel_sessions set expires_at = now() + interval '5 minutes' where id = ${id}`;

    const [followUp] =
      await sql`select * from public.update_omnichannel_session_status(${id}, 'follow_up')`;
    expect(followUp.status).toBe("follow_up");
    expect(followUp.expires_at.getTime() - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(followUp.closed_at).toBeNull();
  });

  it("raises no_data_found (P0002) for an unknown session", async () => {
    await expect(
      sql`select * from public.update_omnichannel_session_status(${crypto.randomUUID()}, 'closed')`,
    ).rejects.toMatchObject({ code: "P0002" });
  });

  it("rejects an unknown status", async () => {
    const id = await newSession("+250788200003");
    await expect(
      sql`select * from public.update_omnichannel_session_status(${id}, 'paused')`,
    ).rejects.toMatchObject({ code: "23514" });
  });
});
