/**
 * begin_outbound_message takes the send's pacing token and completes the inbound message's reply
 * claim in the row's own statement, so an AI reply costs no round trip for either — and takes a
 * token only for a row it wrote and will send: a blocked row or one begun before takes none.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

const tokensLeft = async (key: string): Promise<number | null> => {
  const [row] = await db.sql`select tokens from public.sender_rate_limits
    where sender_key = ${key}`;
  return row ? Math.floor(Number(row.tokens)) : null;
};

const begin = (phone: string, key: string, opts: { channel?: string; completes?: string } = {}) =>
  db.sql`select * from public.begin_outbound_message(
    p_channel => ${opts.channel ?? "whatsapp"}, p_recipient => ${phone}, p_body => 'hello',
    p_purpose => 'ai_reply', p_correlation_id => 'begin-paced',
    p_idempotency_key => ${`begin-paced:${phone}:${opts.channel ?? "whatsapp"}`},
    p_tokens => ${db.sql.json([{ sender_key: key, wanted: 3, rate: 80 }])},
    p_completes_inbound => ${opts.completes ?? null}::uuid)`;

describe("begin_outbound_message with pacing and the reply's claim", () => {
  it("a new queued row takes its tokens; the same row begun again takes none", async () => {
    const key = "whatsapp:begin-paced-1";
    const [first] = await begin("+250788100001", key);
    expect(first).toMatchObject({ is_new: true, status: "queued", sender_key: key, granted: 3 });
    // The bucket starts full (burst = rate / 10 = 8): 3 leased.
    expect(await tokensLeft(key)).toBe(5);

    const [again] = await begin("+250788100001", key);
    expect(again).toMatchObject({ is_new: false, delivery_id: first.delivery_id, granted: null });
    expect(await tokensLeft(key)).toBe(5);
  });

  it("an SMS to a person who opted out is blocked and takes no token", async () => {
    const key = "sms:twilio:begin-paced-2";
    const phone = "+250788100002";
    await db.sql`insert into public.profiles (phone_number, allows_sms) values (${phone}, false)`;
    const [row] = await begin(phone, key, { channel: "sms" });
    expect(row).toMatchObject({ is_new: true, status: "blocked", sender_key: null, granted: null });
    expect(await tokensLeft(key)).toBeNull();
  });

  it("completes the inbound message's reply claim with the reply's row", async () => {
    const phone = "+250788100003";
    const [inbound] = await db.sql`select * from public.record_inbound_message(
      'whatsapp', ${phone}, 'meta', 'wamid.begin-paced-3', 'text', 'hi')`;
    await db.sql`select * from public.claim_inbound_reply_context(
      ${inbound.delivery_id}::uuid, 120, 20)`;
    const [claimed] = await db.sql`select reply_state from public.message_delivery_log
      where id = ${inbound.delivery_id}`;
    expect(claimed.reply_state).toBe("in_progress");

    const [row] = await begin(phone, "whatsapp:begin-paced-3", { completes: inbound.delivery_id });
    expect(row.is_new).toBe(true);
    const [done] = await db.sql`select reply_state, leased_until from public.message_delivery_log
      where id = ${inbound.delivery_id}`;
    expect(done).toEqual({ reply_state: "done", leased_until: null });
  });
});
