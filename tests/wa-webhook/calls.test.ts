import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  type FakeMtn,
  type FakeWhatsApp,
  startFakeMtn,
  startFakeWhatsApp,
} from "../support/fake-providers.ts";
import { createHarness, fixture, fixtureRaw, post, withReplaced } from "./harness.ts";

let db: TestDatabase;
let wa: FakeWhatsApp;
let mtn: FakeMtn;
beforeAll(async () => {
  [db, wa, mtn] = await Promise.all([createTestDatabase(), startFakeWhatsApp(), startFakeMtn()]);
});
afterAll(async () => {
  await Promise.all([db?.close(), wa?.close(), mtn?.close()]);
});
beforeEach(() => {
  wa.reset();
  mtn.reset();
});

const CALL_ID = "wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh";
const CALLER = "+16315553602";

async function callRow(callId: string) {
  const [row] = await db.sql`
    select phone_number, duration_seconds, ended_at, summary, metadata from public.call_summaries
    where call_id = ${callId}`;
  return row;
}

describe("wa-webhook: WhatsApp Business Calling", () => {
  it("records Meta's terminate example, answers 200, then sends the caller the post-call summary on WhatsApp and SMS", async () => {
    const h = createHarness({ db, wa, mtn });
    const res = await h.handler(post(fixtureRaw("calls-terminate")));
    expect(res.status).toBe(200);
    expect((await res.json()).received).toMatchObject({ calls: 1 });
    expect(await callRow(CALL_ID)).toMatchObject({
      phone_number: CALLER,
      duration_seconds: 120,
      ended_at: new Date("2022-12-21T17:49:04.000Z"),
      metadata: {
        whatsapp_call: { event: "terminate", status: "COMPLETED", direction: "USER_INITIATED" },
      },
    });

    await h.settled();
    expect(wa.requests).toHaveLength(1);
    expect(wa.requests[0].json).toMatchObject({
      to: "16315553602",
      type: "template",
      template: { name: "call_summary" },
    });
    expect(mtn.sendRequests()).toHaveLength(1);
    const sms = mtn.sendRequests()[0].json as { receiverAddress: string[]; message: string };
    expect(sms.receiverAddress).toEqual(["16315553602"]);
    expect(sms.message).toMatch(/^Thank you for your call/);

    const deliveries = await db.sql`
      select channel, status from public.message_delivery_log where call_id = ${CALL_ID} order by channel`;
    expect(deliveries.map((d) => [d.channel, d.status])).toEqual([["sms", "sent"], [
      "whatsapp",
      "sent",
    ]]);
    const events = h.events();
    expect(events).toContain("WHATSAPP_CALL_ENDED");
    expect(events).toContain("POST_CALL_NOTIFY_SUCCESS");
    expect(JSON.stringify(h.log.lines)).not.toContain("16315553602");
  });

  it("sends the summary once when Meta redelivers the same terminate", async () => {
    const raw = withReplaced("calls-terminate", { [CALL_ID]: "wacid.redelivered" });
    const h = createHarness({ db, wa, mtn });
    expect((await h.handler(post(raw))).status).toBe(200);
    await h.settled();
    expect((await h.handler(post(raw))).status).toBe(200);
    await h.settled();
    expect(wa.requests).toHaveLength(1);
    expect(mtn.sendRequests()).toHaveLength(1);
    expect(h.events()).toContain("POST_CALL_NOTIFY_REPLAYED");
  });

  it("uses the summary the voice side already wrote, and keeps it", async () => {
    const callId = "wacid.with-summary";
    await db.sql`insert into public.call_summaries (call_id, phone_number, summary)
      values (${callId}, ${CALLER}, 'We agreed to change the price to 250k.')`;
    const h = createHarness({ db, wa, mtn });
    expect((await h.handler(post(withReplaced("calls-terminate", { [CALL_ID]: callId })))).status)
      .toBe(200);
    await h.settled();
    expect((mtn.sendRequests()[0].json as { message: string }).message).toContain("250k");
    expect(await callRow(callId)).toMatchObject({
      summary: "We agreed to change the price to 250k.",
      duration_seconds: 120,
    });
  });

  it("sends to the callee of a business-initiated call", async () => {
    const payload = fixture("calls-terminate");
    const call = payload.entry[0].changes[0].value.calls[0];
    Object.assign(call, {
      id: "wacid.business-initiated",
      direction: "BUSINESS_INITIATED",
      from: "16315553601",
      to: "250788123457",
    });
    const h = createHarness({ db, wa, mtn });
    expect((await h.handler(post(JSON.stringify(payload)))).status).toBe(200);
    await h.settled();
    expect((await callRow("wacid.business-initiated")).phone_number).toBe("+250788123457");
    expect((mtn.sendRequests()[0].json as { receiverAddress: string[] }).receiverAddress).toEqual([
      "250788123457",
    ]);
  });

  it("records a FAILED call but sends no summary of a conversation that never happened", async () => {
    const payload = fixture("calls-terminate");
    Object.assign(payload.entry[0].changes[0].value.calls[0], {
      id: "wacid.failed",
      status: "FAILED",
      duration: 0,
    });
    const h = createHarness({ db, wa, mtn });
    expect((await h.handler(post(JSON.stringify(payload)))).status).toBe(200);
    await h.settled();
    expect(await callRow("wacid.failed")).toMatchObject({
      phone_number: CALLER,
      duration_seconds: 0,
    });
    expect(wa.requests).toHaveLength(0);
    expect(mtn.sendRequests()).toHaveLength(0);
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_CALL_ENDED")).toMatchObject({
      post_call: false,
    });
  });

  it("logs a connect event and records nothing", async () => {
    const h = createHarness({ db, wa, mtn });
    const res = await h.handler(
      post(withReplaced("calls-connect", { [CALL_ID]: "wacid.connect-only" })),
    );
    expect(res.status).toBe(200);
    await h.settled();
    expect(await callRow("wacid.connect-only")).toBeUndefined();
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_CALL_EVENT")).toMatchObject({
      call_event: "connect",
      call_id: "wacid.connect-only",
    });
    expect(wa.requests).toHaveLength(0);
  });

  it("logs call statuses (ringing, accepted) without treating them as message statuses", async () => {
    const payload = fixture("calls-connect");
    payload.entry[0].changes[0].value = {
      messaging_product: "whatsapp",
      metadata: payload.entry[0].changes[0].value.metadata,
      statuses: [{
        id: "wacid.ringing",
        timestamp: "1671644824",
        type: "call",
        status: "RINGING",
        recipient_id: "16315553602",
      }],
    };
    const h = createHarness({ db, wa, mtn });
    const res = await h.handler(post(JSON.stringify(payload)));
    expect(res.status).toBe(200);
    expect((await res.json()).received).toMatchObject({ statuses: 0, unknown_statuses: 0 });
    expect(h.log.lines.find((l) => l.event === "WHATSAPP_CALL_STATUS")).toMatchObject({
      call_id: "wacid.ringing",
      status: "RINGING",
    });
  });
});
