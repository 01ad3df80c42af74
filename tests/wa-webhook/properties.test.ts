/**
 * Property-based tests of the webhook parser, through the real handler and database: whatever a
 * correctly signed body holds (random JSON, Meta's examples mutated, wrong types in every field),
 * the answer is never a 5xx and nothing is left rejecting in the background. Meta retries a 5xx
 * for days, so a payload that crashes the parser would be a self-inflicted outage.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  type FakeMtn,
  type FakeWhatsApp,
  startFakeMtn,
  startFakeWhatsApp,
} from "../support/fake-providers.ts";
import { parseWhatsAppWebhook } from "../../supabase/functions/_shared/wa-webhook/parse-webhook.ts";
import { createHarness, fixture, fixtureNames, type Harness, post } from "./harness.ts";

let db: TestDatabase;
let wa: FakeWhatsApp;
let mtn: FakeMtn;
let h: Harness;
beforeAll(async () => {
  [db, wa, mtn] = await Promise.all([createTestDatabase(), startFakeWhatsApp(), startFakeMtn()]);
  h = createHarness({ db, wa, mtn });
});
afterAll(async () => {
  await h?.settled();
  await Promise.all([db?.close(), wa?.close(), mtn?.close()]);
});

/** Nothing crashed, now or in the background. */
async function expectNoCrash() {
  await h.settled();
  const crashes = h.log.lines.filter((l) =>
    ["UNHANDLED_ERROR", "TEST_BACKGROUND_REJECTED", "WHATSAPP_FOLLOW_UP_FAILED"].includes(
      String(l.event),
    )
  );
  expect(crashes).toEqual([]);
}

async function statusOf(payload: unknown): Promise<number> {
  const res = await h.handler(post(JSON.stringify(payload)));
  await res.arrayBuffer();
  return res.status;
}

type Path = (string | number)[];

/** Every path to a value inside `value` (objects and arrays included, the root excluded). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const out: Path[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = [...prefix, Array.isArray(value) ? Number(k) : k];
    out.push(p, ...pathsOf(v, p));
  }
  return out;
}

function setAt(root: unknown, path: Path, replacement: unknown, remove = false): unknown {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove && !Array.isArray(node)) delete node[last];
  else node[last] = replacement;
  return copy;
}

const fixtures = fixtureNames().map((name) => ({ name, payload: fixture(name) }));
const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });

describe("wa-webhook parser: properties", () => {
  it("never throws, whatever the JSON", () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        parseWhatsAppWebhook(v, "corr");
        parseWhatsAppWebhook({ object: "whatsapp_business_account", entry: [v] }, "corr");
        parseWhatsAppWebhook({
          object: "whatsapp_business_account",
          entry: [{
            changes: [{
              field: "messages",
              value: { messages: [v], statuses: [v], contacts: [v] },
            }],
          }],
        }, "corr");
      }),
      { numRuns: 1_000 },
    );
  });

  it("answers 200 to any signed JSON value", async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (v) => {
        expect(await statusOf(v)).toBe(200);
      }),
      { numRuns: 150 },
    );
    await expectNoCrash();
  });

  it("answers 200 to WhatsApp envelopes full of random messages, statuses and calls", async () => {
    const field = fc.constantFrom("messages", "calls", "account_update", "");
    const type = fc.constantFrom(
      "text",
      "image",
      "audio",
      "video",
      "document",
      "sticker",
      "location",
      "contacts",
      "interactive",
      "button",
      "reaction",
      "order",
      "system",
      "unsupported",
      "unknown",
      "poll",
    );
    const message = fc.record({
      from: fc.oneof(fc.constantFrom("16505551234", "250788123456"), fc.string({ unit: "binary" })),
      id: fc.oneof(fc.string({ unit: "binary", minLength: 1 }), fc.constant("wamid.random")),
      timestamp: fc.oneof(fc.constantFrom("1749416383", "1e400", "-1"), anyJson),
      type,
      text: anyJson,
      image: anyJson,
      interactive: anyJson,
      location: anyJson,
      order: anyJson,
      context: anyJson,
      referral: anyJson,
    }, { requiredKeys: ["from", "id", "type"] });
    const status = fc.record({
      id: fc.string({ minLength: 1 }),
      status: fc.constantFrom("sent", "delivered", "read", "failed", "deleted", "weird"),
      errors: fc.array(fc.record({ code: fc.oneof(fc.integer(), anyJson), title: anyJson })),
      timestamp: anyJson,
    }, { requiredKeys: ["id", "status"] });
    const call = fc.record({
      id: fc.string({ minLength: 1 }),
      from: fc.oneof(fc.constant("16315553602"), fc.string()),
      to: fc.constant("16315553601"),
      event: fc.constantFrom("connect", "terminate", "other"),
      status: fc.constantFrom("COMPLETED", "FAILED"),
      duration: fc.oneof(fc.integer(), fc.double(), anyJson),
      end_time: anyJson,
    }, { requiredKeys: ["id", "from", "to", "event"] });
    const value = fc.record({
      metadata: anyJson,
      contacts: fc.oneof(fc.array(fc.record({ wa_id: fc.string(), profile: anyJson })), anyJson),
      messages: fc.array(message, { maxLength: 3 }),
      statuses: fc.array(status, { maxLength: 3 }),
      calls: fc.array(call, { maxLength: 2 }),
      errors: fc.oneof(fc.array(anyJson), anyJson),
    });
    const envelope = fc.record({
      object: fc.constant("whatsapp_business_account"),
      entry: fc.array(
        fc.record({
          id: anyJson,
          changes: fc.array(fc.record({ field, value: fc.oneof(value, anyJson) }), {
            maxLength: 3,
          }),
        }),
        { maxLength: 3 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(envelope, async (payload) => {
        expect(await statusOf(payload)).toBe(200);
      }),
      { numRuns: 150 },
    );
    await expectNoCrash();
  });

  it("answers 200 to Meta's examples with any part replaced by random JSON or removed", async () => {
    const mutation = fc.constantFrom(...fixtures).chain(({ payload }) => {
      const paths = pathsOf(payload);
      return fc.tuple(fc.constant(payload), fc.constantFrom(...paths), anyJson, fc.boolean());
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ([payload, path, replacement, remove]) => {
        expect(await statusOf(setAt(payload, path, replacement, remove))).toBe(200);
      }),
      { numRuns: 300 },
    );
    await expectNoCrash();
  });

  it("answers 200 with a wrong type in every field of every example", async () => {
    const wrong: unknown[] = [null, -0.5, "\u0000\ud800x", true, [], {}, "9".repeat(400)];
    let requests = 0;
    for (const { name, payload } of fixtures) {
      for (const path of pathsOf(payload)) {
        for (const replacement of wrong) {
          requests++;
          expect(
            await statusOf(setAt(payload, path, replacement)),
            `${name} ${path.join(".")} = ${JSON.stringify(replacement)}`,
          ).toBe(200);
        }
      }
    }
    expect(requests).toBeGreaterThan(1_000);
    await expectNoCrash();
    // Exhaustive (over a thousand signed requests, one after another): allowed more than the
    // default 30 s when other test files share the cores.
  }, 120_000);
});
