/**
 * The inbox worker (public.process_inbound_inbox via processInbox/drainInbox): derives every
 * accepted message once, loses nothing when a worker dies mid-batch, and parks a message it
 * cannot derive without holding back the others.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { drainInbox, processInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import type { InboundMessage } from "../../supabase/functions/_shared/conversations/record-inbound.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const message = (
  sender: string,
  id: string,
  extra: Partial<InboundMessage> = {},
): InboundMessage => ({
  channel: "whatsapp",
  sender,
  provider: "whatsapp",
  providerMessageId: id,
  messageType: "text",
  body: `hello from ${sender}`,
  correlationId: `corr-${id}`,
  ...extra,
});

async function delivered(ids: string[]) {
  return await db.sql`select provider_message_id, reply_state from public.message_delivery_log
    where provider_message_id = any(${ids}) order by provider_message_id`;
}

describe("inbox worker", () => {
  it("loses nothing when the worker dies mid-batch: the claim ends with its transaction", async () => {
    await acceptInboundBatched(db.sql, message("+250788300001", "wamid.inbox-crash-1"));
    // A worker claims and derives the row, then dies before its commit.
    await expect(db.sql.begin(async (tx) => {
      const derived = await processInbox(tx as never);
      expect(derived.map((d) => d.inbound.sender)).toContain("+250788300001");
      throw new Error("worker died");
    })).rejects.toThrow("worker died");
    expect(await delivered(["wamid.inbox-crash-1"])).toHaveLength(0);

    // The next worker derives it, once; a third finds nothing owed.
    const owed: string[] = [];
    const result = await drainInbox({
      sql: db.sql,
      logger: memoryLogger(),
      onInbound: (i) => Promise.resolve(void owed.push(i.deliveryId)),
    });
    expect(result.derived).toBeGreaterThanOrEqual(1);
    const rows = await delivered(["wamid.inbox-crash-1"]);
    expect(rows).toEqual([{ provider_message_id: "wamid.inbox-crash-1", reply_state: "pending" }]);
    expect(owed).toHaveLength(1);
    expect(await processInbox(db.sql)).toEqual([]);
  });

  it("derives the others of a batch and parks, after 5 attempts, a message it cannot derive", async () => {
    await Promise.all([
      acceptInboundBatched(db.sql, message("+250788300011", "wamid.inbox-poison-ok-1")),
      acceptInboundBatched(db.sql, message("not a phone number", "wamid.inbox-poison")),
      acceptInboundBatched(db.sql, message("+250788300012", "wamid.inbox-poison-ok-2")),
    ]);
    const first = await processInbox(db.sql);
    expect(first.map((d) => d.inbound.sender).sort()).toEqual(["+250788300011", "+250788300012"]);
    expect(await delivered(["wamid.inbox-poison-ok-1", "wamid.inbox-poison-ok-2"]))
      .toHaveLength(2);
    for (let i = 0; i < 4; i++) expect(await processInbox(db.sql)).toEqual([]);
    const [poison] = await db.sql`select attempts, processed_at, last_error
      from public.inbound_inbox where provider_message_id = 'wamid.inbox-poison'`;
    expect(poison).toMatchObject({ attempts: 5, processed_at: null });
    expect(poison.last_error).toMatch(/^\w{5}: /);
    // Parked: no longer taken, and never in the way of new messages.
    await acceptInboundBatched(db.sql, message("+250788300013", "wamid.inbox-poison-ok-3"));
    expect((await processInbox(db.sql)).map((d) => d.inbound.sender)).toEqual(["+250788300013"]);
  });

  it("hands each person's messages to the reply path in order, and none needing no reply", async () => {
    await Promise.all([
      acceptInboundBatched(db.sql, message("+250788300021", "wamid.inbox-order-1")),
      acceptInboundBatched(db.sql, message("+250788300021", "wamid.inbox-order-2")),
      acceptInboundBatched(
        db.sql,
        message("+250788300021", "wamid.inbox-order-3", { needsReply: false }),
      ),
    ]);
    const seen: string[] = [];
    await drainInbox({
      sql: db.sql,
      logger: memoryLogger(),
      onInbound: async (i) => {
        seen.push(`start ${i.correlationId}`);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`end ${i.correlationId}`);
      },
    });
    expect(seen).toEqual([
      "start corr-wamid.inbox-order-1",
      "end corr-wamid.inbox-order-1",
      "start corr-wamid.inbox-order-2",
      "end corr-wamid.inbox-order-2",
    ]);
    expect((await delivered(["wamid.inbox-order-3"]))[0].reply_state).toBe("skipped");
  });

  it("derives the next round while the last round's replies run, and keeps a person's replies in order across rounds", async () => {
    await acceptInboundBatched(db.sql, message("+250788300031", "wamid.inbox-overlap-1"));
    await acceptInboundBatched(db.sql, message("+250788300032", "wamid.inbox-overlap-2"));
    await acceptInboundBatched(db.sql, message("+250788300031", "wamid.inbox-overlap-3"));
    const seen: string[] = [];
    let secondStarted!: () => void;
    const second = new Promise<void>((r) => (secondStarted = r));
    const result = await drainInbox({
      sql: db.sql,
      logger: memoryLogger(),
      limit: 1, // one message per round
      maxReplies: 4,
      onInbound: async (i) => {
        seen.push(`start ${i.correlationId}`);
        if (i.correlationId === "corr-wamid.inbox-overlap-2") secondStarted();
        // The first reply holds on until the next round's reply has started (or gives up):
        // a drain that waits for a round's replies before deriving the next never gets there.
        if (i.correlationId === "corr-wamid.inbox-overlap-1") {
          await Promise.race([second, new Promise((r) => setTimeout(r, 3_000))]);
        }
        seen.push(`end ${i.correlationId}`);
      },
    });
    expect(result).toMatchObject({ derived: 3, replies: 3 });
    expect(seen.indexOf("start corr-wamid.inbox-overlap-2"))
      .toBeLessThan(seen.indexOf("end corr-wamid.inbox-overlap-1"));
    // The same person's third message waited for their first reply.
    expect(seen.indexOf("start corr-wamid.inbox-overlap-3"))
      .toBeGreaterThan(seen.indexOf("end corr-wamid.inbox-overlap-1"));
    expect(seen.filter((s) => s.startsWith("end"))).toHaveLength(3);
  });
});
