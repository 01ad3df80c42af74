/**
 * One person across Messenger and SMS: they write on Messenger, share their phone number with a
 * quick reply, then text by SMS. However the two arrive (in turn, or racing), they end as one
 * profile with one live session holding all three messages. And the messaging window on both
 * Meta channels: RESPONSE inside 24 h, HUMAN_AGENT to 7 days, refused after (SMS fallback).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  type FakeMeta,
  type FakeMtn,
  startFakeMeta,
  startFakeMtn,
} from "../support/fake-providers.ts";
import { createHarness, type Harness, outboundFor, post, PSID, withReplaced } from "./harness.ts";
import { recordInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { sendMetaMessage } from "../../supabase/functions/_shared/outbound/send-meta-message.ts";

let db: TestDatabase;
let meta: FakeMeta;
let mtn: FakeMtn;
let h: Harness;
beforeAll(async () => {
  [db, meta, mtn] = await Promise.all([createTestDatabase(), startFakeMeta(), startFakeMtn()]);
  h = createHarness({ db, meta });
});
afterAll(async () => {
  await h?.settled();
  await Promise.all([db?.close(), meta?.close(), mtn?.close()]);
});
beforeEach(() => {
  meta.reset();
  mtn.reset();
});

let n = 0;
function person() {
  n++;
  return { psid: `7${String(n).padStart(15, "0")}`, phone: `+25078${String(1000000 + n)}` };
}

async function messenger(name: string, p: { psid: string; phone: string }) {
  const raw = withReplaced(`messenger/${name}`, {
    [PSID]: p.psid,
    "+16505551234": p.phone,
    m_msgr_: `m_cont_${n}_${name}_`,
  });
  const res = await h.handler(post(raw));
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

const sms = (p: { phone: string }, text: string) =>
  recordInboundBatched(db.sql, {
    channel: "sms",
    sender: p.phone,
    provider: "mtn",
    providerMessageId: `sms-${p.phone}-${text}`,
    messageType: "text",
    body: text,
    correlationId: "c",
  });

async function expectOnePerson(p: { psid: string; phone: string }) {
  const profiles = await db.sql<{ profile_id: string }[]>`
    select distinct profile_id from public.profile_identities
    where (kind = 'messenger' and value = ${p.psid})
    union select id from public.profiles where phone_number = ${p.phone}`;
  expect(profiles).toHaveLength(1);
  const sessions = await db.sql<{ id: string }[]>`
    select id from public.omnichannel_sessions
    where profile_id = ${profiles[0].profile_id} and status <> 'closed'`;
  expect(sessions).toHaveLength(1);
  const messages = await db.sql<{ channel: string; session_id: string }[]>`
    select channel, session_id from public.message_delivery_log
    where direction = 'inbound' and (sender = ${p.psid} or sender = ${p.phone})
    order by created_at`;
  expect(messages.map((m) => m.channel).sort()).toEqual(["messenger", "messenger", "sms"]);
  expect(new Set(messages.map((m) => m.session_id))).toEqual(new Set([sessions[0].id]));
}

describe("Messenger → shares phone → SMS: one person, one live session", () => {
  it("in turn", async () => {
    const p = person();
    await messenger("text", p);
    await messenger("quick-reply-phone", p);
    await sms(p, "hello by SMS");
    await expectOnePerson(p);
  });

  it("when they had texted by SMS before writing on Messenger", async () => {
    const p = person();
    await sms(p, "first by SMS");
    await messenger("text", p);
    await messenger("quick-reply-phone", p);
    await expectOnePerson(p);
  });

  it("with the phone share and the SMS racing", async () => {
    for (let i = 0; i < 4; i++) {
      const p = person();
      await messenger("text", p);
      await Promise.all([messenger("quick-reply-phone", p), sms(p, "racing SMS")]);
      await expectOnePerson(p);
    }
  });
});

describe("the messaging window, on both channels", () => {
  const HOUR = "1 hour";
  // The conversations above are still being answered in the background (a typing indicator,
  // then the reply): these tests count what reaches Meta, so they start once that is done.
  beforeAll(() => h.settled());
  for (const channel of ["messenger", "instagram"] as const) {
    const wroteAgo = async (hours: number) => {
      const p = person();
      await recordInboundBatched(db.sql, {
        channel,
        senderKind: channel,
        sender: p.psid,
        provider: channel,
        providerMessageId: `win-${p.psid}`,
        messageType: "text",
        body: "hi",
        correlationId: "c",
      });
      await db.sql`
        update public.message_delivery_log set created_at = now() - ${hours} * ${HOUR}::interval
        where sender = ${p.psid}`;
      return p;
    };
    const send = (p: { psid: string }) =>
      sendMetaMessage(outboundFor(db, meta, mtn), {
        channel,
        to: p.psid,
        body: "Your order shipped",
        purpose: "test",
        correlationId: "c",
      });

    it(`${channel}: RESPONSE inside 24 h`, async () => {
      expect((await send(await wroteAgo(23))).status).toBe("sent");
      expect(meta.requests[0].json).toMatchObject({ messaging_type: "RESPONSE" });
    });

    it(`${channel}: MESSAGE_TAG HUMAN_AGENT between 24 h and 7 days`, async () => {
      expect((await send(await wroteAgo(25))).status).toBe("sent");
      expect((await send(await wroteAgo(24 * 7 - 1))).status).toBe("sent");
      for (const r of meta.requests) {
        expect(r.json).toMatchObject({ messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT" });
      }
    });

    it(`${channel}: refused after 7 days, no HTTP call, SMS fallback when they have a phone`, async () => {
      const p = await wroteAgo(24 * 7 + 1);
      const r = await send(p);
      expect(r).toMatchObject({ status: "failed", error: { class: "window_closed" } });
      expect(meta.requests).toHaveLength(0);
      const [row] = await db.sql`
        select status, error_code from public.message_delivery_log where id = ${r.deliveryId}`;
      expect(row).toEqual({ status: "failed", error_code: "META.WINDOW_CLOSED" });
      expect(
        await db.sql`select 1 from public.message_delivery_log where fallback_of = ${r.deliveryId}`,
      )
        .toHaveLength(0);

      const q = await wroteAgo(24 * 8);
      const [profile] = await db.sql`
        select profile_id from public.profile_identities where kind = ${channel} and value = ${q.psid}`;
      await db.sql`select public.link_identity(${profile.profile_id}::uuid, 'phone', ${q.phone})`;
      const refused = await send(q);
      const [fallback] = await db.sql`
        select channel, recipient, body, status from public.message_delivery_log
        where fallback_of = ${refused.deliveryId}`;
      expect(fallback).toEqual({
        channel: "sms",
        recipient: q.phone,
        body: "Your order shipped",
        status: "queued",
      });
    });
  }
});
