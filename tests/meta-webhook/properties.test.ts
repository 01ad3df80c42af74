/**
 * Property-based tests of meta-webhook through the real handler and database: whatever a
 * correctly signed body holds (random JSON, Messenger/Instagram envelopes full of random events,
 * binary strings in ids and texts), the answer is 200 and nothing rejects in the background.
 * Meta retries a non-2xx for hours: a payload that crashed the handler would be an outage.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeMeta, startFakeMeta } from "../support/fake-providers.ts";
import { createHarness, type Harness, post } from "./harness.ts";

let db: TestDatabase;
let meta: FakeMeta;
let h: Harness;
beforeAll(async () => {
  [db, meta] = await Promise.all([createTestDatabase(), startFakeMeta()]);
  h = createHarness({ db, meta });
});
afterAll(async () => {
  await h?.settled();
  await Promise.all([db?.close(), meta?.close()]);
});

const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });

async function statusOf(payload: unknown): Promise<number> {
  const res = await h.handler(post(JSON.stringify(payload)));
  await res.arrayBuffer();
  return res.status;
}

async function expectNoCrash() {
  await h.settled();
  const crashes = h.log.lines.filter((l) =>
    ["UNHANDLED_ERROR", "TEST_BACKGROUND_REJECTED", "META_FOLLOW_UP_FAILED"].includes(
      String(l.event),
    )
  );
  expect(crashes).toEqual([]);
}

describe("meta-webhook: properties over the envelope", () => {
  it("answers 200 to any signed JSON value", async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (v) => {
        expect(await statusOf(v)).toBe(200);
      }),
      { numRuns: 100 },
    );
    await expectNoCrash();
  });

  it("answers 200 to page and instagram envelopes full of random events", async () => {
    const id = fc.oneof(
      fc.constantFrom("6712458890123456", "1188734505712345"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
    );
    const event = fc.record({
      sender: fc.oneof(fc.record({ id }), anyJson),
      recipient: fc.record({ id }),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 2e12 }), anyJson),
      message: fc.oneof(
        fc.record({
          mid: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }),
          text: fc.string({ unit: "binary" }),
          is_echo: fc.boolean(),
          metadata: fc.oneof(fc.uuid(), fc.string()),
          quick_reply: fc.oneof(fc.record({ payload: fc.string({ unit: "binary" }) }), anyJson),
          attachments: fc.array(
            fc.record({
              type: fc.constantFrom("image", "ig_reel", "share", "fallback", "toString", "x"),
              payload: fc.oneof(anyJson, fc.record({ url: fc.webUrl(), title: fc.string() })),
            }),
            { maxLength: 3 },
          ),
          reply_to: anyJson,
        }, { requiredKeys: ["mid"] }),
        anyJson,
      ),
      postback: fc.oneof(fc.record({ payload: fc.string(), title: fc.string() }), anyJson),
      delivery: fc.oneof(
        fc.record({
          watermark: fc.oneof(fc.integer({ min: 0, max: 2e12 }), fc.double()),
          mids: fc.array(fc.string(), { maxLength: 3 }),
        }),
        anyJson,
      ),
      read: fc.oneof(fc.record({ watermark: fc.integer({ min: 0, max: 2e12 }) }), anyJson),
      reaction: fc.oneof(
        fc.record({
          mid: fc.string({ minLength: 1 }),
          action: fc.constantFrom("react", "unreact"),
        }),
        anyJson,
      ),
      referral: anyJson,
    }, { requiredKeys: ["sender", "recipient"] });
    const envelope = fc.record({
      object: fc.constantFrom("page", "instagram"),
      entry: fc.array(
        fc.record({
          id,
          time: fc.integer({ min: 0 }),
          messaging: fc.array(event, { maxLength: 3 }),
        }),
        { maxLength: 2 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(envelope, async (v) => {
        expect(await statusOf(v)).toBe(200);
      }),
      { numRuns: 120 },
    );
    await expectNoCrash();
  });
});
