/**
 * An AI reply's cost in the database: 3 statements for a reply without tool calls (the claim
 * with everything the reply reads; the outbound row with its pacing token and the claim's
 * completion; the outcome), with the agent's instructions and tool definitions cached per isolate;
 * and for a message the inbox worker derived, 2 writes of the inbound row in all (written already
 * claimed, then completed), not 3.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, sentSms, sentWhatsApp, startHarness } from "./harness.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import { createPacer } from "../../supabase/functions/_shared/outbound/pacing.ts";
import { createAgent } from "../../supabase/functions/_shared/ai/agent.ts";
import {
  type ReplyDeps,
  replyToInbound,
} from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { drainInbox, processInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";

let h: Harness;
let counted: Sql;
const statements: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  // Every write of an inbound row, in order.
  await h.db.sql.unsafe(`
    create table public.test_inbound_writes (seq bigserial primary key, id uuid, op text, reply_state text);
    create function public.test_inbound_writes() returns trigger language plpgsql as $$
    begin
      insert into public.test_inbound_writes (id, op, reply_state) values (new.id, tg_op, new.reply_state);
      return null;
    end $$;
    create trigger test_inbound_writes after insert or update on public.message_delivery_log
      for each row when (new.direction = 'inbound') execute function public.test_inbound_writes();`);
  counted = postgres(h.db.url, {
    prepare: false,
    max: 3,
    onnotice: () => {},
    debug: (_c, query) => void statements.push(query),
  }) as unknown as Sql;
});
afterAll(async () => {
  await counted?.end();
  await h?.close();
});

function deps(): ReplyDeps {
  const base = { ...h.senders(), sql: counted, pacer: createPacer(counted) };
  return {
    ...base,
    agent: createAgent(base, {
      baseUrl: h.openai.baseUrl,
      model: "test-model",
      timeBudgetMs: 5_000,
    }),
  };
}

describe("statements per AI reply", () => {
  it("a WhatsApp and an SMS reply take 3 statements each once the isolate is warm", async () => {
    const d = deps();
    const reply = async (channel: "whatsapp" | "sms") => {
      const phone = h.newPhone();
      const r = await h.receive(channel, phone, "hello there, thanks for the call");
      statements.length = 0;
      expect(
        await replyToInbound(d, { ...r, channel, sender: phone, correlationId: `stmt-${phone}` }),
      ).toBe("replied");
      return [...statements];
    };
    await reply("whatsapp"); // the isolate's first reply reads the instructions and tools
    const whatsapp = await reply("whatsapp");
    const sms = await reply("sms");
    // The claim with what the reply reads; the outbound row with its pacing token and the claim's
    // completion; the outcome. Nothing else: no pacing or completion round trip of its own.
    for (const list of [whatsapp, sms]) {
      expect(list.length, list.join("\n")).toBeLessThanOrEqual(3);
      expect(list.join("\n")).not.toMatch(/take_send_token|complete_inbound_reply/);
    }
    expect(sentWhatsApp(h).length).toBeGreaterThanOrEqual(2);
    expect(sentSms(h).length).toBeGreaterThanOrEqual(1);
  });

  const writesOf = async (providerMessageId: string) => {
    const rows = await h.db.sql`select w.op, w.reply_state from public.test_inbound_writes w
      join public.message_delivery_log m on m.id = w.id
      where m.provider_message_id = ${providerMessageId} order by w.seq`;
    return rows.map((r) => `${r.op} ${r.reply_state}`);
  };
  const accept = (phone: string, id: string) =>
    acceptInboundBatched(h.db.sql, {
      channel: "whatsapp",
      sender: phone,
      provider: "whatsapp",
      providerMessageId: id,
      messageType: "text",
      body: "hello, is my order on its way?",
      correlationId: `corr-${id}`,
    });

  it("a message the inbox worker derives is written claimed: 2 writes of it per reply, not 3", async () => {
    const d = deps();
    const replied: string[] = [];
    const drain = (claimSeconds?: number) =>
      drainInbox({
        sql: counted,
        logger: memoryLogger(),
        claimSeconds,
        onInbound: async (i) => void replied.push(await replyToInbound(d, i)),
      });
    await accept(h.newPhone(), "wamid.stmt-claimed");
    expect((await drain(120)).replies).toBe(1);
    expect(replied).toEqual(["replied"]);
    expect(await writesOf("wamid.stmt-claimed")).toEqual(["INSERT in_progress", "UPDATE done"]);

    // A worker that claims after deriving writes the row once more.
    await accept(h.newPhone(), "wamid.stmt-pending");
    expect((await drain()).replies).toBe(1);
    expect(replied).toEqual(["replied", "replied"]);
    expect(await writesOf("wamid.stmt-pending")).toEqual([
      "INSERT pending",
      "UPDATE in_progress",
      "UPDATE done",
    ]);
  });

  it("a claim the worker no longer holds is not presented as its own", async () => {
    const phone = h.newPhone();
    await accept(phone, "wamid.stmt-stale");
    const [derived] = await processInbox(counted, 100, 120);
    expect(derived.inbound.claimedUntil).toBeTruthy();
    // The lease ran out and another worker took the reply: its lease is not ours.
    await h.db
      .sql`update public.message_delivery_log set leased_until = now() + interval '5 minutes'
      where id = ${derived.inbound.deliveryId}`;
    expect(await replyToInbound(deps(), derived.inbound)).toBe("not_claimed");
    // Ours ran out and nobody took it: the reply claims it again and answers.
    await h.db.sql`update public.message_delivery_log set leased_until = now() - interval '1 second'
      where id = ${derived.inbound.deliveryId}`;
    expect(await replyToInbound(deps(), derived.inbound)).toBe("replied");
    const digits = (n: string) => n.replace(/\D/g, "");
    expect(sentWhatsApp(h).filter((m) => digits(m.to) === digits(phone))).toHaveLength(1);
  });
});
