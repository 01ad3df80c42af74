/**
 * `POST /messages` with `media` (issue 14): a real WhatsApp media message by a signed link to our
 * copy in `media-outbound`, SMS with the caption and link, and files WhatsApp would refuse turned
 * away with 422 before anything is written. Storage is the local Storage API over HTTP; the file
 * is served by a plain HTTP server, as a caller's CDN would.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { messagesHandler } from "./handler.ts";
import { serve, type Served } from "../support/serve.ts";
import { createStorageHandler } from "../../scripts/stack/storage.ts";
import { LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";
import { MEDIA_FIXTURES } from "../../scripts/sandbox/media.ts";
import { createMediaStore } from "../../supabase/functions/_shared/media/storage.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";

const KEY = "sb_secret_media_api_tests_0123456789";
let h: Harness;
let storage: Served;
let files: Served;
let dir: string;
let background: ReturnType<typeof backgroundTracker>;

const bigPng = new Uint8Array(5 * 1024 * 1024 + 10);
bigPng.set(MEDIA_FIXTURES["photo.png"].bytes);

beforeAll(async () => {
  h = await startHarness();
  dir = await mkdtemp(join(tmpdir(), "media-api-"));
  storage = await serve(
    createStorageHandler({ dir, jwtSecret: LOCAL_JWT_SECRET, serviceKeys: [KEY] }),
  );
  files = await serve((req) => {
    const name = new URL(req.url).pathname.slice(1);
    if (name === "big.png") {
      return new Response(bigPng, { headers: { "content-type": "image/png" } });
    }
    const f = MEDIA_FIXTURES[name];
    return f
      ? new Response(f.bytes as BodyInit, { headers: { "content-type": f.mime } })
      : new Response("no", { status: 404 });
  });
});
afterAll(async () => {
  await h?.close();
  await storage?.close();
  await files?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  h.reset();
  background = backgroundTracker((err) => console.error(err));
});

async function send(body: Record<string, unknown>) {
  const handler = messagesHandler(h, KEY, {
    waitUntil: background.waitUntil,
    media: { store: createMediaStore({ url: storage.url, key: KEY }), fetch, timeoutMs: 5_000 },
  });
  const res = await handler(
    new Request("http://localhost/messages", {
      method: "POST",
      headers: { "content-type": "application/json", apikey: KEY },
      body: JSON.stringify({ idempotency_key: crypto.randomUUID(), ...body }),
    }),
  );
  const json = await res.json();
  await background.settled();
  return { status: res.status, json };
}

describe("POST /messages with media", () => {
  it("sends WhatsApp a document by a link that downloads the same bytes", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "send me the invoice");
    const { status } = await send({
      to: { phone },
      channel: "whatsapp",
      media: {
        url: `${files.url}/invoice.pdf`,
        type: "document",
        caption: "Invoice A-17",
        filename: "invoice-A-17.pdf",
      },
    });
    expect(status).toBe(202);
    expect(h.wa.requests).toHaveLength(1);
    const sent = h.wa.requests[0].json as {
      type: string;
      document: { link: string; caption: string; filename: string };
    };
    expect(sent.type).toBe("document");
    expect(sent.document).toMatchObject({ caption: "Invoice A-17", filename: "invoice-A-17.pdf" });
    expect(sent.document.link).toContain(`${storage.url}/storage/v1/object/sign/media-outbound/`);
    const file = await fetch(sent.document.link);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(MEDIA_FIXTURES["invoice.pdf"].bytes);

    const [row] = await h.db.sql<{ message_type: string; body: string }[]>`
      select message_type, body from public.message_delivery_log
      where recipient = ${phone} and direction = 'outbound'`;
    expect(row).toEqual({ message_type: "document", body: "Invoice A-17" });
  });

  it("texts the caption and the link where the channel has no media (MTN SMS)", async () => {
    const phone = h.newPhone();
    const { status } = await send({
      to: { phone },
      channel: "sms",
      media: { url: `${files.url}/photo.png`, type: "image", caption: "Your receipt" },
    });
    expect(status).toBe(202);
    const [sms] = sentSms(h);
    expect(sms.message).toMatch(
      new RegExp(`^Your receipt\\n${storage.url}/storage/v1/object/sign/media-outbound/`),
    );
  });

  it("refuses an image over 5 MB and a type WhatsApp does not take, sending nothing", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "hi");
    const big = await send({
      to: { phone },
      channel: "whatsapp",
      media: { url: `${files.url}/big.png`, type: "image" },
    });
    expect(big.status).toBe(422);
    expect(big.json.error).toMatchObject({
      code: "MEDIA.TOO_LARGE",
      message: expect.stringContaining("5 MB"),
    });
    const gif = await send({
      to: { phone },
      channel: "whatsapp",
      media: { url: `${files.url}/animation.gif`, type: "image" },
    });
    expect(gif.status).toBe(422);
    expect(gif.json.error.code).toBe("MEDIA.UNSUPPORTED_TYPE");
    const missing = await send({
      to: { phone },
      media: { path: "nothing/here.pdf", type: "document" },
    });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("MEDIA.NOT_FOUND");
    expect(h.wa.requests).toEqual([]);
  });
});
