import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  type Sql,
  type TestDatabase,
  withRollback,
} from "../../tests/support/db.ts";

let db: TestDatabase;
const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
const tables = [
  "profiles",
  "omnichannel_sessions",
  "message_delivery_log",
  "call_summaries",
  "scheduled_jobs",
  "agent_instructions",
  "agent_tool_definitions",
];

/** One profile, session, message and call summary per user (alice, bob), plus an anonymous caller. */
beforeAll(async () => {
  db = await createTestDatabase();
  const { sql } = db;
  for (
    const [phone, userId] of [["+250788500001", alice], ["+250788500002", bob], [
      "+250788500003",
      null,
    ]]
  ) {
    const [s] = await sql`select * from public.get_or_create_omnichannel_session(${phone}, 'sms')`;
    await sql`update public.profiles set user_id = ${userId} where id = ${s.profile_id}`;
    await sql`select public.log_message_delivery('sms', 'inbound', 'received',
      p_session_id => ${s.session_id}, p_profile_id => ${s.profile_id}, p_body => ${`hi from ${phone}`})`;
    await sql`insert into public.call_summaries (call_id, phone_number, summary)
      values (${`call-${phone}`}, ${phone}, 'summary')`;
  }
});
afterAll(() => db?.close());

/** Runs `fn` as a PostgREST request would: `set local role` plus the JWT claims, rolled back. */
function as<T>(role: string, sub: string | null, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return withRollback(db.sql, async (tx) => {
    const claims = JSON.stringify(sub ? { sub, role } : { role });
    await tx`select set_config('request.jwt.claims', ${claims}, true)`;
    await tx.unsafe(`set local role ${role}`);
    return fn(tx);
  });
}

async function count(tx: Sql, table: string): Promise<number | "denied"> {
  try {
    const [{ n }] = await tx.unsafe(`select count(*)::int as n from public.${table}`);
    return n;
  } catch (err) {
    if ((err as { code?: string }).code === "42501") return "denied";
    throw err;
  }
}

describe("row level security", () => {
  it("anon reads nothing from any table", async () => {
    for (const table of tables) {
      // Each read in its own transaction: a denied read aborts the transaction it runs in.
      expect(await as("anon", null, (tx) => count(tx, table)), table).toBe("denied");
    }
  });

  it("authenticated sees only its own profile, sessions and messages", async () => {
    const seen = await as("authenticated", alice, async (tx) => ({
      profiles: await tx`select phone_number from public.profiles`,
      sessions: await tx`select s.id from public.omnichannel_sessions s`,
      messages: await tx`select body from public.message_delivery_log`,
    }));
    expect(seen.profiles).toEqual([{ phone_number: "+250788500001" }]);
    expect(seen.sessions).toHaveLength(1);
    expect(seen.messages).toEqual([{ body: "hi from +250788500001" }]);
  });

  it("authenticated without a matching profile sees nothing", async () => {
    const n = await as("authenticated", crypto.randomUUID(), async (tx) => [
      await count(tx, "profiles"),
      await count(tx, "omnichannel_sessions"),
      await count(tx, "message_delivery_log"),
    ]);
    expect(n).toEqual([0, 0, 0]);
  });

  it("authenticated cannot read internal tables or write anything", async () => {
    for (
      const table of [
        "call_summaries",
        "scheduled_jobs",
        "agent_instructions",
        "agent_tool_definitions",
      ]
    ) {
      expect(await as("authenticated", alice, (tx) => count(tx, table)), table).toBe("denied");
    }
    await expect(
      as(
        "authenticated",
        alice,
        (tx) => tx`update public.profiles set display_name = 'x' where user_id = ${alice}`,
      ),
    ).rejects.toMatchObject({
      code: "42501",
    });
  });

  it("authenticated cannot call the session functions", async () => {
    await expect(
      as(
        "authenticated",
        alice,
        (tx) => tx`select * from public.get_or_create_omnichannel_session('+250788500009', 'sms')`,
      ),
    ).rejects
      .toMatchObject({ code: "42501" });
  });

  it("service_role reads and writes everything through the functions", async () => {
    const result = await as("service_role", null, async (tx) => {
      const [s] =
        await tx`select * from public.get_or_create_omnichannel_session('+250788500004', 'voice')`;
      return {
        session: s,
        profiles: await count(tx, "profiles"),
        summaries: await count(tx, "call_summaries"),
      };
    });
    expect(result.session.is_new).toBe(true);
    expect(result.profiles).toBe(4);
    expect(result.summaries).toBe(3);
  });
});
