/**
 * Concurrent webhooks' messages are accepted together: one statement and one commit per
 * event-loop turn into the inbox (public.accept_inbound_messages), each request answered only
 * after its own message is committed, a failed batch failing its requests and their redelivery
 * recorded once; the inbox worker then derives every accepted message once.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createSql, type Sql } from "../../supabase/functions/_shared/db/client.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { processInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { createHarness, fixture, post } from "./harness.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

/** Meta's text example, from its own sender with its own message id. */
function textFrom(n: number, tag: string): string {
  const payload = fixture("text");
  const value = payload.entry[0].changes[0].value;
  const wa = `1650555${String(n).padStart(4, "0")}`;
  value.contacts[0].wa_id = wa;
  value.messages[0].from = wa;
  value.messages[0].id = `wamid.batch-${tag}-${n}`;
  return JSON.stringify(payload);
}

async function acceptedOf(tag: string) {
  return await db.sql`select provider_message_id from public.inbound_inbox
    where provider_message_id like ${`wamid.batch-${tag}-%`}`;
}

async function rowsOf(tag: string) {
  return await db.sql`select provider_message_id, session_id from public.message_delivery_log
    where provider_message_id like ${`wamid.batch-${tag}-%`}`;
}

describe("wa-webhook: concurrent requests' messages recorded together", () => {
  it("accepts 30 concurrent webhooks in fewer statements than requests, each answered after its row is committed", async () => {
    let statements = 0;
    const counted = postgres(db.url, {
      prepare: false,
      max: 3,
      onnotice: () => {},
      debug: (_c, query) => {
        if (query.includes("accept_inbound_messages")) statements++;
      },
    }) as unknown as Sql;
    const h = createHarness({ db, sql: counted });
    const seen: number[] = [];
    await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const res = await h.handler(post(textFrom(i, "group")));
      expect(res.status).toBe(200);
      // The 200 means committed: a separate connection already sees this request's inbox row.
      const [row] = await db.sql`select 1 from public.inbound_inbox
        where provider_message_id = ${`wamid.batch-group-${i}`}`;
      if (row) seen.push(i);
    }));
    expect(seen).toHaveLength(30);
    await h.derived();
    expect(await rowsOf("group")).toHaveLength(30);
    expect(new Set((await rowsOf("group")).map((r) => r.session_id)).size).toBe(30);
    expect(h.inbound).toHaveLength(30);
    expect(statements).toBeLessThan(30);
    await h.settled();
    await counted.end();
  });

  it("fails every request of a batch the database could not take with 503, and records their redelivery once", async () => {
    const dead = createSql("postgres://postgres@127.0.0.1:1/postgres", { max: 1 });
    const down = createHarness({ db, sql: dead });
    const statuses = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => down.handler(post(textFrom(i, "down"))).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(10).fill(503));
    expect(down.inbound).toHaveLength(0);
    await dead.end();

    const up = createHarness({ db });
    // Meta redelivers each one, some of them twice at once.
    const redelivered = await Promise.all(
      [...Array(10).keys(), 0, 3, 7].map((i) =>
        up.handler(post(textFrom(i, "down"))).then((r) => r.status)
      ),
    );
    expect(redelivered).toEqual(Array(13).fill(200));
    expect(await acceptedOf("down")).toHaveLength(10);
    await up.settled();
    expect(await rowsOf("down")).toHaveLength(10);
    expect(up.inbound).toHaveLength(10); // one reply each, none doubled
  });

  it("accepts the rest of a batch that one bad message spoiled, failing only that message", async () => {
    const message = (n: number, id: string) => ({
      channel: "whatsapp" as const,
      sender: `+1650666${String(n).padStart(4, "0")}`,
      provider: "whatsapp",
      providerMessageId: id,
      messageType: "text",
      body: `message ${n}`,
      correlationId: `corr-${n}`,
    });
    const results = await Promise.allSettled([
      acceptInboundBatched(db.sql, message(1, "wamid.batch-spoiled-1")),
      acceptInboundBatched(db.sql, message(2, "")), // accept_inbound_messages refuses it (22023)
      acceptInboundBatched(db.sql, message(3, "wamid.batch-spoiled-3")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "22023" });
    expect((await acceptedOf("spoiled")).map((r) => r.provider_message_id).sort())
      .toEqual(["wamid.batch-spoiled-1", "wamid.batch-spoiled-3"]);
    await processInbox(db.sql);
    expect((await rowsOf("spoiled")).map((r) => r.provider_message_id).sort())
      .toEqual(["wamid.batch-spoiled-1", "wamid.batch-spoiled-3"]);
  });

  it("accepts the status batches of 20 concurrent webhooks in fewer statements, and the worker applies each of them", async () => {
    const wamid = (i: number, k: number) => `wamid.batch-status-${i}-${k}`;
    await db
      .sql`insert into public.message_delivery_log (channel, direction, status, recipient, body, provider, provider_message_id)
      select 'whatsapp', 'outbound', 'sent', '+250788000000', 'hello', 'whatsapp', 'wamid.batch-status-' || i || '-' || k
      from generate_series(0, 19) i, generate_series(0, 2) k`;
    let statements = 0;
    const counted = postgres(db.url, {
      prepare: false,
      max: 3,
      onnotice: () => {},
      debug: (_c, query) => {
        if (query.includes("accept_delivery_statuses")) statements++;
      },
    }) as unknown as Sql;
    const h = createHarness({ db, sql: counted });
    const bodies = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const payload = fixture("status-delivered");
      const value = payload.entry[0].changes[0].value;
      // Request 7 also reports a message we never sent: only its own count says so.
      const ids = [0, 1, 2].map((k) => wamid(i, k)).concat(
        i === 7 ? ["wamid.batch-status-unknown"] : [],
      );
      value.statuses = ids.map((id) => ({ ...value.statuses[0], id }));
      const res = await h.handler(post(JSON.stringify(payload)));
      expect(res.status).toBe(200);
      return (await res.json()).received;
    }));
    // Each request is answered with what it accepted; the worker applies them and tells apart
    // the one no row of ours has.
    bodies.forEach((b, i) => expect(b).toMatchObject({ statuses: i === 7 ? 4 : 3 }));
    await h.derived();
    expect(h.log.lines.filter((l) => l.event === "WHATSAPP_STATUS_UNKNOWN_MESSAGE"))
      .toMatchObject([{ provider_message_id: "wamid.batch-status-unknown" }]);
    expect(h.log.lines.filter((l) => l.event === "WHATSAPP_STATUS_UPDATED")).toHaveLength(60);
    const rows = await db.sql`select status from public.message_delivery_log
      where provider_message_id like 'wamid.batch-status-%' and direction = 'outbound'`;
    expect(rows.map((r) => r.status)).toEqual(Array(60).fill("delivered"));
    expect(statements).toBeLessThan(20);
    await h.settled();
    await counted.end();
  });
});
