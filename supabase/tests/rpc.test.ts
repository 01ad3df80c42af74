import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type Sql, type TestDatabase } from "../../tests/support/db.ts";
import { rpc, rpcValue } from "../functions/_shared/db/rpc.ts";

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.close());

describe("rpc: SQL functions called by name with named arguments", () => {
  it("returns a row function's rows, sends objects as jsonb and leaves out undefined arguments", async () => {
    const [created] = await rpc(sql, "get_or_create_omnichannel_session", {
      p_phone_number: "+250788990001",
      p_channel: "sms",
      p_context: { plan: "basic", nested: { n: 1 } },
      p_call_id: undefined,
    });
    expect(created.is_new).toBe(true);
    expect(created.context).toEqual({ plan: "basic", nested: { n: 1 } });
    expect(created.call_id).toBeNull();

    const [merged] = await rpc(sql, "merge_omnichannel_session_context", {
      p_session_id: created.session_id,
      p_context: { price: "250k" },
    });
    expect(merged.context).toEqual({ plan: "basic", nested: { n: 1 }, price: "250k" });
  });

  it("returns a value function's value, with arrays typed by the function's signature (uuid[])", async () => {
    const released = await rpcValue(sql, "release_deliveries", {
      p_ids: ["00000000-0000-0000-0000-000000000001"],
    });
    expect(released).toBe(0);
    const claimed = await rpcValue(sql, "claim_delivery", {
      p_delivery_id: "00000000-0000-0000-0000-000000000001",
    });
    expect(claimed).toBe(false);
  });

  it("passes strings as data, never as SQL", async () => {
    const hostile = "x'); drop table public.profiles; --";
    const [row] = await rpc(sql, "get_or_create_omnichannel_session", {
      p_phone_number: "+250788990002",
      p_channel: "sms",
      p_call_id: hostile,
    });
    expect(row.call_id).toBe(hostile);
    const [{ n }] = await sql`select count(*)::int as n from public.profiles`;
    expect(n).toBeGreaterThanOrEqual(2);
  });
});
