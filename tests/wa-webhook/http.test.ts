import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  countRows,
  createHarness,
  fixtureRaw,
  post,
  sign,
  URL_BASE,
  VERIFY_TOKEN,
} from "./harness.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

function verify(params: Record<string, string>) {
  return new Request(`${URL_BASE}?${new URLSearchParams(params)}`);
}

describe("wa-webhook: GET subscription verification", () => {
  it("echoes hub.challenge as plain text when the verify token matches", async () => {
    const h = createHarness({ db });
    const res = await h.handler(
      verify({
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("1158201444");
    expect(h.events()).toContain("WHATSAPP_WEBHOOK_VERIFIED");
  });

  it("answers 403 for a wrong token, a wrong mode or no token", async () => {
    const h = createHarness({ db });
    for (
      const params of [
        { "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1" },
        { "hub.mode": "subscribe", "hub.verify_token": `${VERIFY_TOKEN}x`, "hub.challenge": "1" },
        { "hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" },
        { "hub.mode": "subscribe", "hub.challenge": "1" },
        {},
      ] as Record<string, string>[]
    ) {
      const res = await h.handler(verify(params));
      expect(res.status, JSON.stringify(params)).toBe(403);
      expect(await res.text()).not.toBe("1");
    }
  });

  it("answers 403 to everyone when no verify token is configured (fails closed)", async () => {
    const h = createHarness({ db, verifyToken: null });
    const res = await h.handler(
      verify({ "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1" }),
    );
    expect(res.status).toBe(403);
    const res2 = await h.handler(
      verify({ "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" }),
    );
    expect(res2.status).toBe(403);
  });

  it("answers 400 when the token matches but there is no challenge to echo", async () => {
    const h = createHarness({ db });
    const res = await h.handler(
      verify({ "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN }),
    );
    expect(res.status).toBe(400);
  });
});

describe("wa-webhook: HTTP edge", () => {
  it("answers 405 with an Allow header to other methods", async () => {
    const h = createHarness({ db });
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const res = await h.handler(new Request(URL_BASE, { method, body: "{}" }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, POST");
    }
  });

  it("answers 413 to a signed body over 1 MiB and writes nothing", async () => {
    const h = createHarness({ db });
    const before = await countRows(db.sql);
    const big = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [],
      pad: "x".repeat(1024 * 1024),
    });
    const res = await h.handler(post(big));
    expect(res.status).toBe(413);
    expect(await countRows(db.sql)).toEqual(before);
  });

  it("answers 400 to a signed body that is not JSON", async () => {
    const h = createHarness({ db });
    for (const raw of ["{not json", "", "\u00ff\u00fe"]) {
      const res = await h.handler(post(raw));
      expect(res.status, raw).toBe(400);
      expect((await res.json()).error.code).toBe("HTTP.MALFORMED_JSON");
    }
    const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
    expect((await h.handler(post(invalidUtf8, sign(invalidUtf8)))).status).toBe(400);
  });

  it("checks the signature on the exact bytes Meta sent (escaped unicode is not re-serialised)", async () => {
    const h = createHarness({ db });
    const raw = fixtureRaw("text")
      .replace("Does it come in another color?", "Caf\\u00e9 \\ud83d\\ude00?")
      .replace(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "wamid.escaped-unicode",
      );
    const res = await h.handler(post(raw));
    expect(res.status).toBe(200);
    await h.derived(); // the inbox worker the 200 kicked has written the message row
    const [row] = await db
      .sql`select body from public.message_delivery_log where provider_message_id = 'wamid.escaped-unicode'`;
    expect(row.body).toBe("Café 😀?");
    // The same JSON, re-serialised, is other bytes: the original signature no longer matches.
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect((await h.handler(post(reserialised, sign(raw)))).status).toBe(401);
  });

  it("accepts an upper-case hex signature", async () => {
    const h = createHarness({ db });
    const raw = fixtureRaw("status-read");
    const res = await h.handler(post(raw, `sha256=${sign(raw).slice(7).toUpperCase()}`));
    expect(res.status).toBe(200);
  });
});
