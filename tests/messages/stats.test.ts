/**
 * GET /messages/stats (issue 14): counts, rates, time to delivered and first-response time per
 * channel, from a delivery log written with known times.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../ai/harness.ts";
import { messagesHandler } from "./handler.ts";

const KEY = "sb_secret_stats_tests_0123456789";
const DAY = "2026-06-01T00:00:00Z";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  const { sql } = h.db;
  const [p] =
    await sql`insert into public.profiles (phone_number) values (${h.newPhone()}) returning id`;
  const [s] =
    await sql`insert into public.omnichannel_sessions (profile_id) values (${p.id}) returning id`;
  // WhatsApp: 4 taken by the provider (delivered after 10, 20, 30 s and one read), 1 failed, 1 blocked.
  const wa = [
    ["read", 10],
    ["delivered", 20],
    ["delivered", 30],
    ["sent", null],
    ["failed", null],
    ["blocked", null],
  ] as const;
  for (const [i, [status, after]] of wa.entries()) {
    await sql`insert into public.message_delivery_log
      (channel, direction, status, created_at, sent_at, delivered_at, read_at, profile_id)
      values ('whatsapp', 'outbound', ${status}, ${DAY}::timestamptz + ${i} * interval '1 minute',
              case when ${status} in ('sent', 'delivered', 'read') then ${DAY}::timestamptz end,
              ${DAY}::timestamptz + make_interval(secs => ${after ?? 0}),
              case when ${status} = 'read' then ${DAY}::timestamptz + interval '1 minute' end,
              ${p.id})`;
  }
  await sql`update public.message_delivery_log set delivered_at = null where delivered_at = ${DAY}`;
  // SMS: the person writes, the AI answers 90 s later.
  await sql`insert into public.message_delivery_log (channel, direction, status, created_at, session_id, profile_id)
    values ('sms', 'inbound', 'received', ${DAY}::timestamptz + interval '1 hour', ${s.id}, ${p.id}),
           ('sms', 'outbound', 'sent', ${DAY}::timestamptz + interval '1 hour 90 seconds', ${s.id}, ${p.id})`;
  await sql`update public.message_delivery_log set purpose = 'ai_reply'
    where session_id = ${s.id} and direction = 'outbound'`;
  // Outside the range: not counted.
  await sql`insert into public.message_delivery_log (channel, direction, status, created_at)
    values ('whatsapp', 'outbound', 'failed', ${DAY}::timestamptz + interval '2 days')`;
});
afterAll(() => h?.close());

async function stats(query: string) {
  const res = await messagesHandler(h, KEY)(
    new Request(`http://localhost/messages/stats?${query}`, { headers: { apikey: KEY } }),
  );
  return { status: res.status, json: await res.json() };
}

describe("GET /messages/stats", () => {
  it("counts, rates and times per channel within the range", async () => {
    const { status, json } = await stats(`from=${DAY}&to=2026-06-02T00:00:00Z`);
    expect(status).toBe(200);
    const [sms, whatsapp] = json.channels;
    expect(whatsapp).toEqual({
      channel: "whatsapp",
      sent: 4,
      delivered: 3,
      read: 1,
      failed: 1,
      blocked: 1,
      delivery_rate: 0.75,
      read_rate: 1 / 3,
      median_seconds_to_delivered: 20,
      p90_seconds_to_delivered: 28,
      median_seconds_to_read: 60,
      p90_seconds_to_read: 60,
      median_first_response_seconds: null,
    });
    expect(sms).toMatchObject({ channel: "sms", sent: 1, median_first_response_seconds: 90 });
  });

  it("filters by channel, and refuses a range that is not one", async () => {
    const { json } = await stats(`from=${DAY}&to=2026-06-02T00:00:00Z&channel=sms`);
    expect(json.channels.map((c: { channel: string }) => c.channel)).toEqual(["sms"]);
    expect((await stats(`from=2026-06-02T00:00:00Z&to=${DAY}`)).status).toBe(400);
    expect((await stats("from=yesterday&to=today")).status).toBe(400);
  });
});
