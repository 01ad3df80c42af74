import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  type Sql,
  type TestDatabase,
  withRollback,
} from "../../tests/support/db.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

/** Creates a live session for `phone` expiring `minutes` from now (negative: already expired). */
async function sessionExpiringIn(tx: Sql, phone: string, minutes: number): Promise<string> {
  const [row] =
    await tx`select session_id from public.get_or_create_omnichannel_session(${phone}, 'whatsapp')`;
  await tx`
    update public.omnichannel_sessions
    set expires_at = now() + make_interval(mins => ${minutes}::int)
    where id = ${row.session_id}`;
  return row.session_id;
}

describe("cleanup_expired_omnichannel_sessions", () => {
  it("closes only expired live sessions and returns how many", async () => {
    await withRollback(db.sql, async (tx) => {
      const expired = [
        await sessionExpiringIn(tx, "+250788300001", -1),
        await sessionExpiringIn(tx, "+250788300002", -600),
      ];
      const live = await sessionExpiringIn(tx, "+250788300003", 30);
      const [{ cleanup: count }] =
        await tx`select public.cleanup_expired_omnichannel_sessions() as cleanup`;
      expect(count).toBe(2);

      const rows = await tx`select id, status, closed_at from public.omnichannel_sessions`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of expired) {
        expect(byId.get(id)).toMatchObject({ status: "closed" });
        expect(byId.get(id)?.closed_at).toBeInstanceOf(Date);
      }
      expect(byId.get(live)).toMatchObject({ status: "active", closed_at: null });

      const [{ again }] = await tx`select public.cleanup_expired_omnichannel_sessions() as again`;
      expect(again).toBe(0);
    });
  });

  it("works through a backlog larger than one batch", async () => {
    await withRollback(db.sql, async (tx) => {
      for (let i = 0; i < 7; i++) await sessionExpiringIn(tx, `+25078831000${i}`, -5);
      const [{ count }] = await tx`select public.cleanup_expired_omnichannel_sessions(3) as count`;
      expect(count).toBe(7);
      const [{ live }] = await tx`
        select count(*)::int as live from public.omnichannel_sessions where status <> 'closed'`;
      expect(live).toBe(0);
    });
  });

  it("leaves follow_up sessions that have not expired alone", async () => {
    await withRollback(db.sql, async (tx) => {
      const id = await sessionExpiringIn(tx, "+250788320001", 10);
      await tx`update public.omnichannel_sessions set status = 'follow_up' where id = ${id}`;
      const [{ count }] = await tx`select public.cleanup_expired_omnichannel_sessions() as count`;
      expect(count).toBe(0);
    });
  });
});
