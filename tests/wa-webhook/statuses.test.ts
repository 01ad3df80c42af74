import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createHarness, fixture, fixtureRaw, post } from "./harness.ts";
import { acceptDeliveryStatusesBatched } from "../../supabase/functions/_shared/inbox/record-statuses-batch.ts";
import { drainInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const SENT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA";
let seq = 0;

/** An outbound WhatsApp message we sent earlier, as the send path leaves it: status `sent`. */
async function outbound(wamid: string, phone = `+2507883${String(++seq).padStart(5, "0")}`) {
  const [p] = await db.sql`
    insert into public.profiles (phone_number, has_whatsapp) values (${phone}, true)
    on conflict (phone_number) do update set has_whatsapp = true returning id`;
  await db.sql`select public.log_message_delivery(
    p_channel => 'whatsapp', p_direction => 'outbound', p_status => 'sent', p_provider => 'whatsapp',
    p_provider_message_id => ${wamid}, p_body => 'Your order is on its way', p_profile_id => ${p.id},
    p_recipient => ${phone})`;
  return { profileId: p.id as string, phone };
}

async function rowOf(wamid: string) {
  const [row] = await db.sql`
    select m.status, m.error_code, m.error_message, m.error_class, m.metadata, p.has_whatsapp
    from public.message_delivery_log m join public.profiles p on p.id = m.profile_id
    where m.provider_message_id = ${wamid} and m.direction = 'outbound'`;
  return row;
}

/** A status fixture for another wamid (each test has its own outbound message). */
function statusFor(name: string, wamid: string): string {
  const payload = fixture(name);
  payload.entry[0].changes[0].value.statuses[0].id = wamid;
  return JSON.stringify(payload);
}

describe("wa-webhook: delivery statuses", () => {
  it("moves an outbound message through Meta's sent, delivered and read examples", async () => {
    await outbound(SENT_ID);
    const h = createHarness({ db });
    for (const name of ["status-sent", "status-delivered", "status-read"]) {
      const res = await h.handler(post(fixtureRaw(name)));
      expect(res.status, name).toBe(200);
      expect((await res.json()).received, name).toMatchObject({ statuses: 1 });
    }
    await h.derived();
    const row = await rowOf(SENT_ID);
    expect(row.status).toBe("read");
    expect(row.metadata).toMatchObject({
      whatsapp_delivered_at: "2025-06-18T16:22:55.000Z",
      whatsapp_read_at: "2025-06-18T16:23:10.000Z",
      pricing: { category: "utility", pricing_model: "PMP" },
    });
    expect(
      h.log.lines.filter((l) => l.event === "WHATSAPP_STATUS_UPDATED").map((l) => l.current_status),
    )
      .toEqual(["sent", "delivered", "read"]);
    expect(h.inbound).toHaveLength(0);
  });

  it("never moves a status backwards: read, then a late delivered, stays read", async () => {
    await outbound("wamid.out-of-order");
    const h = createHarness({ db });
    expect((await h.handler(post(statusFor("status-read", "wamid.out-of-order")))).status).toBe(
      200,
    );
    expect((await h.handler(post(statusFor("status-delivered", "wamid.out-of-order")))).status)
      .toBe(200);
    expect((await h.handler(post(statusFor("status-sent", "wamid.out-of-order")))).status).toBe(
      200,
    );
    await h.derived();
    expect((await rowOf("wamid.out-of-order")).status).toBe("read");
  });

  it("stores Meta's error code and title for a failed message", async () => {
    const wamid = fixture("status-failed").entry[0].changes[0].value.statuses[0].id;
    const { profileId } = await outbound(wamid);
    const h = createHarness({ db });
    expect((await h.handler(post(fixtureRaw("status-failed")))).status).toBe(200);
    await h.derived();
    const row = await rowOf(wamid);
    expect(row).toMatchObject({
      status: "failed",
      error_code: "131050",
      error_class: "permanent",
      has_whatsapp: true,
    });
    expect(row.error_message).toMatch(
      /^Unable to deliver the message\. This recipient has chosen to stop/,
    );
    const [p] = await db.sql`select has_whatsapp from public.profiles where id = ${profileId}`;
    expect(p.has_whatsapp).toBe(true);
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_STATUS_UPDATED")).toMatchObject({
      level: "warn",
      status: "failed",
      error_code: "131050",
    });
  });

  it("learns from 131026 (message undeliverable) that the person has no WhatsApp", async () => {
    const wamid = fixture("status-failed-undeliverable").entry[0].changes[0].value.statuses[0].id;
    await outbound(wamid);
    const h = createHarness({ db });
    expect((await h.handler(post(fixtureRaw("status-failed-undeliverable")))).status).toBe(200);
    await h.derived();
    expect(await rowOf(wamid)).toMatchObject({
      status: "failed",
      error_code: "131026",
      error_message: "Message undeliverable: Message Undeliverable.",
      has_whatsapp: false,
    });
  });

  it("keeps read when a failure arrives after it, and does not unlearn WhatsApp", async () => {
    await outbound("wamid.read-then-failed");
    const h = createHarness({ db });
    await h.handler(post(statusFor("status-read", "wamid.read-then-failed")));
    // Applied before the failure arrives: each request's worker drains on its own, and two
    // drains running at once apply their statuses in whichever order they lock the row.
    await h.derived();
    await h.handler(post(statusFor("status-failed-undeliverable", "wamid.read-then-failed")));
    await h.derived();
    expect(await rowOf("wamid.read-then-failed")).toMatchObject({
      status: "read",
      has_whatsapp: true,
    });
  });

  it("answers 200 and logs a status for a message this stack did not send", async () => {
    const h = createHarness({ db });
    const res = await h.handler(post(statusFor("status-delivered", "wamid.sent-by-someone-else")));
    expect(res.status).toBe(200);
    // Accepted (its 200 means it is durable); the worker finds no row of ours with its id.
    expect((await res.json()).received).toMatchObject({ statuses: 1 });
    await h.derived();
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_STATUS_UNKNOWN_MESSAGE")).toMatchObject({
      provider_message_id: "wamid.sent-by-someone-else",
      status: "delivered",
    });
    const [{ n }] = await db.sql`
      select count(*)::int as n from public.message_delivery_log where provider_message_id = 'wamid.sent-by-someone-else'`;
    expect(n).toBe(0);
  });

  it("logs statuses it does not track (deleted, warning) without touching the row", async () => {
    await outbound("wamid.deleted-status");
    const h = createHarness({ db });
    const payload = fixture("status-sent");
    payload.entry[0].changes[0].value.statuses = [
      {
        id: "wamid.deleted-status",
        status: "deleted",
        timestamp: "1750263773",
        recipient_id: "16505551234",
      },
      {
        id: "wamid.deleted-status",
        status: "warning",
        timestamp: "1750263774",
        recipient_id: "16505551234",
      },
    ];
    expect((await h.handler(post(JSON.stringify(payload)))).status).toBe(200);
    await h.derived();
    expect((await rowOf("wamid.deleted-status")).status).toBe("sent");
    expect(h.log.lines.filter((l) => l.event === "WHATSAPP_STATUS_IGNORED").map((l) => l.status))
      .toEqual(["deleted", "warning"]);
  });

  it("keeps an accepted status until a worker applies it (the kick was lost: dispatch's run), once, and purges it after the retention", async () => {
    await outbound("wamid.inbox-kept");
    const update = {
      channel: "whatsapp" as const,
      providerMessageId: "wamid.inbox-kept",
      status: "delivered" as const,
    };
    // Accepted twice (Meta redelivers): one inbox row, the message row not touched yet.
    await acceptDeliveryStatusesBatched(db.sql, [update]);
    await acceptDeliveryStatusesBatched(db.sql, [update]);
    const kept = await db.sql`select processed_at from public.status_inbox
      where provider_message_id = 'wamid.inbox-kept'`;
    expect(kept).toEqual([{ processed_at: null }]);
    expect((await rowOf("wamid.inbox-kept")).status).toBe("sent");

    const log = memoryLogger();
    const result = await drainInbox({
      sql: db.sql,
      logger: log,
      onInbound: () => Promise.resolve(),
    });
    expect(result.statuses).toBeGreaterThanOrEqual(1);
    expect((await rowOf("wamid.inbox-kept")).status).toBe("delivered");
    expect(
      log.lines.filter((l) =>
        l.event === "WHATSAPP_STATUS_UPDATED" && l.provider_message_id === "wamid.inbox-kept"
      ),
    ).toHaveLength(1);

    // Housekeeping: processed longer ago than the retention, it goes; a recent one stays.
    await db.sql`update public.status_inbox set processed_at = now() - interval '8 days'
      where provider_message_id = 'wamid.inbox-kept'`;
    expect(await db.sql`select public.purge_processed_inboxes('7 days') as n`)
      .toMatchObject([{ n: expect.any(Number) }]);
    expect(
      await db.sql`select 1 from public.status_inbox
      where provider_message_id = 'wamid.inbox-kept'`,
    ).toHaveLength(0);
  });
});
