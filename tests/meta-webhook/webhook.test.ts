import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeMeta, graphError, startFakeMeta } from "../support/fake-providers.ts";
import {
  createHarness,
  type Harness,
  IGSID,
  outboundFor,
  post,
  PSID,
  sign,
  URL_BASE,
  VERIFY_TOKEN,
  withReplaced,
} from "./harness.ts";
import { sendMetaMessage } from "../../supabase/functions/_shared/outbound/send-meta-message.ts";

let db: TestDatabase;
let meta: FakeMeta;
let h: Harness;
beforeAll(async () => {
  [db, meta] = await Promise.all([createTestDatabase(), startFakeMeta()]);
});
afterAll(async () => {
  await h?.settled();
  await Promise.all([db?.close(), meta?.close()]);
});
beforeEach(() => {
  meta.reset();
  h = createHarness({ db, meta });
});

let n = 0;
/** A fixture as another person with fresh message ids, so each test starts clean. */
function fresh(name: string, extra: Record<string, string> = {}) {
  n++;
  const person = `9${String(n).padStart(15, "0")}`;
  const raw = withReplaced(name, {
    [PSID]: person,
    [IGSID]: person,
    m_msgr_: `m_${n}_`,
    aWdfZAG1_: `ig_${n}_`,
    ...extra,
  });
  return { raw, person };
}

async function deliver(raw: string) {
  const res = await h.handler(post(raw));
  return { status: res.status, body: await res.json() };
}

const rowsOf = (person: string) =>
  db.sql<
    {
      channel: string;
      direction: string;
      message_type: string;
      status: string;
      body: string | null;
      reply_state: string | null;
      metadata: Record<string, unknown>;
      provider_message_id: string | null;
    }[]
  >`
    select channel, direction, message_type, status, body, reply_state, metadata, provider_message_id
    from public.message_delivery_log
    where sender = ${person} or recipient = ${person} order by created_at, id`;

const total = async () =>
  (await db.sql<{ n: number }[]>`select count(*)::int as n from public.message_delivery_log`)[0]
    .n;

describe("meta-webhook: verification and signatures (fail closed)", () => {
  const verify = (token: string | null) =>
    new Request(
      `${URL_BASE}?hub.mode=subscribe&hub.challenge=1158201444${
        token === null ? "" : `&hub.verify_token=${token}`
      }`,
    );

  it("echoes the challenge for the right verify token, 403 otherwise", async () => {
    const ok = await h.handler(verify(VERIFY_TOKEN));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("1158201444");
    expect((await h.handler(verify("wrong"))).status).toBe(403);
    expect((await h.handler(verify(null))).status).toBe(403);
  });

  it("refuses every verification when META_VERIFY_TOKEN is not set", async () => {
    const open = createHarness({ db, meta, verifyToken: null });
    expect((await open.handler(verify(""))).status).toBe(403);
  });

  it("forged, missing or wrongly keyed signatures: 401 and nothing written", async () => {
    const { raw } = fresh("messenger/text");
    const before = await total();
    for (
      const signature of [null, "sha256=00", sign(raw, "another-secret"), sign(`${raw} `), "x"]
    ) {
      const res = await h.handler(post(raw, signature));
      expect(res.status).toBe(401);
    }
    expect(await total()).toBe(before);
    expect(h.inbound).toHaveLength(0);
  });

  it("without META_APP_SECRET every POST is 401", async () => {
    const closed = createHarness({ db, meta, appSecret: null });
    const { raw } = fresh("messenger/text");
    expect((await closed.handler(post(raw))).status).toBe(401);
  });

  it("a signed body of another object is acknowledged and ignored", async () => {
    const raw = JSON.stringify({ object: "user", entry: [] });
    expect(await deliver(raw)).toEqual({ status: 200, body: { received: null } });
  });
});

describe("meta-webhook: Messenger events, signed, become the right rows", () => {
  it("a text message: an inbound row in the person's session, owed a reply", async () => {
    const { raw, person } = fresh("messenger/text");
    const res = await deliver(raw);
    expect(res.status).toBe(200);
    expect(res.body.received).toMatchObject({ messages: 1, duplicates: 0 });
    await h.settled();
    const [row] = await rowsOf(person);
    expect(row).toMatchObject({
      channel: "messenger",
      direction: "inbound",
      status: "received",
      body: "Hi, is my order on its way?",
      reply_state: "pending",
    });
    expect(h.inbound).toHaveLength(1);
    expect(h.inbound[0]).toMatchObject({ channel: "messenger", sender: person });
    const [identity] = await db.sql`
      select kind, value from public.profile_identities where value = ${person}`;
    expect(identity).toEqual({ kind: "messenger", value: person });
  });

  it("marks the message seen and shows typing before the reply", async () => {
    const { raw, person } = fresh("messenger/text");
    await deliver(raw);
    await h.settled();
    const actions = meta.requests.filter((r) =>
      (r.json as { recipient?: { id?: string } })?.recipient?.id === person &&
      (r.json as { sender_action?: string })?.sender_action
    )
      .map((r) => r.json);
    expect(actions).toEqual([
      { recipient: { id: person }, sender_action: "mark_seen" },
      { recipient: { id: person }, sender_action: "typing_on" },
    ]);
  });

  it("every attachment type, quick replies, postbacks and reply_to are recorded", async () => {
    const expected: Record<string, [string, string, boolean]> = {
      "attachment-image": ["image", "[image]", true],
      "attachment-audio": ["audio", "[audio]", true],
      "attachment-video": ["video", "[video]", true],
      "attachment-file": ["file", "[file]", true],
      "attachment-sticker": ["sticker", "[sticker]", true],
      "attachment-fallback": ["fallback", "[link: Spring offer] https://example.org/offer", true],
      "attachment-reel": ["reel", "[reel]", true],
      "quick-reply": ["quick_reply", "[chose: Yes please (CONFIRM_YES)]", true],
      "postback": ["postback", "[chose: Track my order (TRACK_ORDER)]", true],
      "postback-referral": ["postback", "[chose: Get Started (GET_STARTED)]", true],
      "reply-to": ["text", "This one", true],
      "referral": ["referral", "[referral: spring-campaign]", false],
      "reaction": ["reaction", "[reacted ❤️]", false],
    };
    for (const [name, [type, body, replies]] of Object.entries(expected)) {
      const { raw, person } = fresh(`messenger/${name}`);
      expect((await deliver(raw)).status).toBe(200);
      const rows = await rowsOf(person);
      expect({ name, rows: rows.length }).toEqual({ name, rows: 1 });
      expect({ name, type: rows[0].message_type, body: rows[0].body }).toEqual({
        name,
        type,
        body,
      });
      expect({ name, reply: rows[0].reply_state }).toEqual({
        name,
        reply: replies ? "pending" : "skipped",
      });
    }
  });

  it("an unknown event is 200 and logged, nothing written", async () => {
    const before = await total();
    const { raw } = fresh("messenger/unknown-event");
    expect((await deliver(raw)).status).toBe(200);
    expect(h.events()).toContain("META_EVENT_IGNORED");
    expect(await total()).toBe(before);
  });

  it("redelivery and 20 concurrent copies: one row, one reply", async () => {
    const { raw, person } = fresh("messenger/text");
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(raw)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await deliver(raw);
    await h.settled();
    expect(await rowsOf(person)).toHaveLength(1);
    expect(h.inbound.filter((i) => i.sender === person)).toHaveLength(1);
  });
});

describe("meta-webhook: receipts by watermark, forward only", () => {
  it("delivery then read move every earlier outbound message; a late delivery changes nothing", async () => {
    const { raw, person } = fresh("messenger/text");
    await deliver(raw);
    const out = outboundFor(db, meta);
    const sends = [];
    for (const body of ["one", "two"]) {
      sends.push(
        await sendMetaMessage(out, {
          channel: "messenger",
          to: person,
          body,
          purpose: "test",
          correlationId: "c",
        }),
      );
    }
    expect(sends.map((s) => s.status)).toEqual(["sent", "sent"]);
    const future = Date.now() + 60_000;
    const receipt = (kind: "delivery" | "read") =>
      JSON.stringify({
        object: "page",
        entry: [{
          id: "107311318424893",
          time: future,
          messaging: [{
            sender: { id: person },
            recipient: { id: "107311318424893" },
            timestamp: future,
            ...(kind === "delivery"
              ? { delivery: { mids: [], watermark: future } }
              : { read: { watermark: future } }),
          }],
        }],
      });
    await deliver(receipt("read"));
    await deliver(receipt("delivery"));
    const outbound = (await rowsOf(person)).filter((r) => r.direction === "outbound");
    expect(outbound.map((r) => r.status)).toEqual(["read", "read"]);
  });

  it("a watermark before a message leaves it as it was; mids name messages one by one", async () => {
    const { raw, person } = fresh("messenger/text");
    await deliver(raw);
    const sent = await sendMetaMessage(outboundFor(db, meta), {
      channel: "messenger",
      to: person,
      body: "hello",
      purpose: "test",
      correlationId: "c",
    });
    const early = (extra: Record<string, unknown>) =>
      JSON.stringify({
        object: "page",
        entry: [{
          id: "p",
          messaging: [{ sender: { id: person }, recipient: { id: "p" }, ...extra }],
        }],
      });
    await deliver(early({ delivery: { watermark: 1_000 } }));
    expect((await rowsOf(person)).find((r) => r.direction === "outbound")?.status).toBe("sent");
    await deliver(early({ delivery: { watermark: 1_000, mids: [sent.providerMessageId] } }));
    expect((await rowsOf(person)).find((r) => r.direction === "outbound")?.status).toBe(
      "delivered",
    );
  });

  it("Instagram's messaging_seen reads the message it names and every earlier one", async () => {
    const { raw, person } = fresh("instagram/text");
    await deliver(raw);
    const sent = await sendMetaMessage(outboundFor(db, meta), {
      channel: "instagram",
      to: person,
      body: "We do!",
      purpose: "test",
      correlationId: "c",
    });
    await deliver(
      withReplaced("instagram/seen", {
        [IGSID]: person,
        aWdfZAG1_out_01: sent.providerMessageId!,
      }),
    );
    expect((await rowsOf(person)).find((r) => r.direction === "outbound")?.status).toBe("read");
  });
});

describe("meta-webhook: echoes and identities", () => {
  it("the page's own message from the inbox is recorded once and never answered", async () => {
    const { raw, person } = fresh("messenger/echo");
    await deliver(raw);
    await deliver(raw);
    const rows = await rowsOf(person);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      direction: "outbound",
      status: "sent",
      body: "Hello from our team",
    });
    expect(h.inbound).toHaveLength(0);
  });

  it("the echo of our own send (its id in metadata) adds nothing", async () => {
    const { raw, person } = fresh("messenger/text");
    await deliver(raw);
    const sent = await sendMetaMessage(outboundFor(db, meta), {
      channel: "messenger",
      to: person,
      body: "our reply",
      purpose: "test",
      correlationId: "c",
    });
    const echo = fresh("messenger/echo").raw.replaceAll(/"9\d{15}"/g, `"${person}"`)
      .replace("sent-by-a-person-in-the-inbox", sent.deliveryId);
    await deliver(echo);
    expect((await rowsOf(person)).filter((r) => r.direction === "outbound")).toHaveLength(1);
  });

  it("a shared phone number links the person to the profile that has it", async () => {
    const phone = `+2507${String(80000000 + n).slice(-8)}`;
    const [sms] = await db.sql`
      insert into public.profiles (phone_number) values (${phone}) returning id`;
    const { raw, person } = fresh("messenger/quick-reply-phone", { "+16505551234": phone });
    expect((await deliver(raw)).body.received).toMatchObject({ linked: 1 });
    const [identity] = await db.sql`
      select profile_id from public.profile_identities where kind = 'messenger' and value = ${person}`;
    expect(identity.profile_id).toBe(sms.id);
    await h.settled();
    const handed = h.inbound.find((i) => i.sender === person);
    expect(handed?.profileId).toBe(sms.id);
    const [session] = await db.sql`
      select profile_id from public.omnichannel_sessions where id = ${handed!.sessionId}`;
    expect(session.profile_id).toBe(sms.id);
  });

  it("first contact fetches the profile once a day; a failure never blocks the reply", async () => {
    const { raw, person } = fresh("messenger/text");
    meta.profiles.set(person, {
      first_name: "Sheena",
      last_name: "Nelson",
      profile_pic: "https://p",
    });
    await deliver(raw);
    await h.settled();
    const [cached] = await db.sql`
      select mp.name, mp.profile_pic, p.display_name from public.meta_profiles mp
      join public.profiles p on p.id = mp.profile_id where mp.external_id = ${person}`;
    expect(cached).toEqual({
      name: "Sheena Nelson",
      profile_pic: "https://p",
      display_name: "Sheena Nelson",
    });
    meta.reset();
    const again = fresh("messenger/text");
    await deliver(again.raw.replaceAll(again.person, person));
    await h.settled();
    expect(meta.requests.filter((r) => r.method === "GET")).toHaveLength(0);

    const other = fresh("messenger/text");
    meta.replyNext(graphError(1, "An unknown error occurred", { status: 500 }));
    await deliver(other.raw);
    await h.settled();
    expect(h.inbound.at(-1)?.sender).toBe(other.person);
  });
});
