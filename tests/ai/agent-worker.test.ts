/**
 * The agent-worker function's handler: secret key only; writes every owed AI reply once, however
 * many workers run at once; takes over a reply whose worker died once its lease runs out.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "./harness.ts";
import { secretKeyAuth } from "../support/auth.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createAgentWorkerHandler } from "../../supabase/functions/_shared/agent-worker/handler.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { inboxWorkerOf } from "../../supabase/functions/_shared/inbox/process-inbox.ts";

const SECRET_KEY = "sb_secret_for_agent_worker_tests_0123456789";
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

function worker(
  opts: { limit?: number; now?: () => number; onBacklog?: () => void; inbox?: boolean } = {},
) {
  const replies = h.replyDeps();
  return createAgentWorkerHandler({
    logger: memoryLogger(),
    auth: secretKeyAuth("agent-worker", SECRET_KEY),
    replies,
    inbox: opts.inbox ? inboxWorkerOf(replies) : undefined,
    defaults: { limit: opts.limit ?? 20, timeBudgetMs: 5_000 },
    now: opts.now,
    onBacklog: opts.onBacklog,
  });
}

const call = (key: string | null = SECRET_KEY, body: unknown = {}) =>
  new Request("http://localhost/agent-worker", {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
    body: JSON.stringify(body),
  });

async function owed(phones: string[]) {
  const [{ n }] = await h.db.sql`select count(*)::int as n from public.message_delivery_log
    where direction = 'inbound' and sender = any(${phones}) and reply_state <> 'done'`;
  return n;
}

describe("agent-worker handler", () => {
  it("refuses callers without the secret key, and replies to nothing", async () => {
    const phone = h.newPhone();
    await h.receive("sms", phone, "hello?");
    for (const key of [null, "sb_secret_wrong", "sb_publishable_x"]) {
      expect((await worker()(call(key))).status).toBe(401);
    }
    expect(sentSms(h)).toHaveLength(0);
    expect(await owed([phone])).toBe(1);
  });

  it("answers every owed reply exactly once when three workers are kicked at the same time", async () => {
    const phones = Array.from({ length: 6 }, () => h.newPhone());
    for (const p of phones) await h.receive("sms", p, "what time is my appointment?");
    const w = worker();
    const bodies = await Promise.all([1, 2, 3].map(async () => {
      const res = await w(call());
      expect(res.status).toBe(200);
      return (await res.json()).replies;
    }));
    expect(bodies.reduce((a, b) => a + b.replied + b.fallback, 0)).toBeGreaterThanOrEqual(6);
    const replied = sentSms(h).flatMap((m) => m.receiverAddress).filter((a) =>
      phones.includes(`+${a}`)
    );
    expect(replied.sort()).toEqual(phones.map((p) => p.slice(1)).sort());
    expect(await owed(phones)).toBe(0);
  });

  it("takes over a reply whose worker died, once its lease has run out", async () => {
    const phone = h.newPhone();
    const r = await h.receive("sms", phone, "anyone?");
    // A worker claimed it and died: the lease is still running, so nobody may take it.
    await h.db.sql`select public.claim_inbound_reply(${r.deliveryId}, 120)`;
    expect((await (await worker()(call())).json()).replies).toMatchObject({ replied: 0 });
    expect(sentSms(h)).toHaveLength(0);
    // The lease runs out.
    await h.db.sql`update public.message_delivery_log set leased_until = now() - interval '1 second'
      where id = ${r.deliveryId}`;
    expect((await (await worker()(call())).json()).replies).toMatchObject({ replied: 1 });
    expect((await (await worker()(call())).json()).replies).toMatchObject({ found: 0 });
    expect(sentSms(h).map((m) => m.receiverAddress)).toEqual([[phone.slice(1)]]);
  });

  it("calls itself again when its time budget runs out with replies still owed", async () => {
    const phones = Array.from({ length: 5 }, () => h.newPhone());
    for (const p of phones) await h.receive("sms", p, "hello");
    // A clock that jumps 4 s per reading: the 5 s budget allows one round of 2.
    let t = 0;
    let backlog = 0;
    const slow = worker({ limit: 2, now: () => (t += 4_000), onBacklog: () => backlog++ });
    expect((await (await slow(call())).json()).replies).toMatchObject({ replied: 2, rounds: 1 });
    expect(backlog).toBe(1);
    expect(await owed(phones)).toBe(3);

    let again = 0;
    expect((await (await worker({ limit: 2, onBacklog: () => again++ })(call())).json()).replies)
      .toMatchObject({ replied: 3 });
    expect(again).toBe(0);
    expect(await owed(phones)).toBe(0);
  });

  it("derives the messages the webhooks accepted into the inbox and answers each once, with three workers kicked at once", async () => {
    const phones = Array.from({ length: 6 }, () => h.newPhone());
    await Promise.all(phones.map((p, i) =>
      acceptInboundBatched(h.db.sql, {
        channel: "sms",
        sender: p,
        provider: "mtn",
        providerMessageId: `sms-inbox-worker-${p}-${i}`,
        messageType: "text",
        body: "hello from the inbox",
        correlationId: `inbox-worker-${i}`,
      })
    ));
    // Three isolates, each with its own worker.
    const bodies = await Promise.all([1, 2, 3].map(async () => {
      const res = await worker({ inbox: true })(call());
      expect(res.status).toBe(200);
      return (await res.json()).replies;
    }));
    expect(bodies.reduce((a, b) => a + b.derived, 0)).toBe(6);
    const replied = sentSms(h).flatMap((m) => m.receiverAddress).filter((a) =>
      phones.includes(`+${a}`)
    );
    expect(replied.sort()).toEqual(phones.map((p) => p.slice(1)).sort());
    expect(await owed(phones)).toBe(0);
  });
});
