/**
 * Media between WhatsApp and Genesys through the real wiring (the functions' factories built
 * from an environment), with the sandbox playing WhatsApp and Genesys and the local Storage API
 * (scripts/stack/storage.ts) behind SUPABASE_URL, all over HTTP.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { serve, type Served } from "../support/serve.ts";
import { createSandbox, type Sandbox } from "../../scripts/sandbox/sandbox.ts";
import { type AgentAttachment, agentMessage } from "../../scripts/sandbox/genesys.ts";
import { whatsappInbound, whatsappMediaInbound } from "../../scripts/sandbox/inbound-payloads.ts";
import { MEDIA_FIXTURES } from "../../scripts/sandbox/media.ts";
import { genesysSignature, metaSignature } from "../../scripts/sandbox/signing.ts";
import { SANDBOX_CREDENTIALS as C, sandboxDefaults } from "../../scripts/stack/sandbox-env.ts";
import { createStorageHandler, withStorage } from "../../scripts/stack/storage.ts";
import { LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import { waWebhook } from "../../supabase/functions/_shared/wa-webhook/main.ts";
import { genesysWebhook } from "../../supabase/functions/_shared/genesys-webhook/main.ts";
import { safeName } from "../../supabase/functions/_shared/media/storage.ts";

const SECRET_KEY = "sb_secret_media-test";
let db: TestDatabase;
let sandbox: Sandbox;
let served: Served;
let storage: Served;
let storageDir: string;
let clock = Date.now();

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = createSandbox({ statusCallbacks: false });
  served = await serve(sandbox.handler);
  storageDir = await mkdtemp(join(tmpdir(), "media-test-"));
  storage = await serve(withStorage(
    createStorageHandler({
      dir: storageDir,
      jwtSecret: LOCAL_JWT_SECRET,
      serviceKeys: [SECRET_KEY],
      now: () => clock,
    }),
    () => Promise.resolve(new Response("no functions here", { status: 404 })),
  ));
});
afterAll(async () => {
  await sandbox?.close();
  await served?.close();
  await storage?.close();
  await db?.close();
  await rm(storageDir, { recursive: true, force: true });
});
afterEach(() => {
  sandbox.messages.clear();
  sandbox.faults.clear();
});

function functions() {
  const d = sandboxDefaults(served.url);
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    SUPABASE_URL: storage.url,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
    ...d.whatsapp,
    ...d.genesys,
    WHATSAPP_SUMMARY_TEMPLATE: "",
    OPENAI_BASE_URL: `${served.url}/openai/v1`,
    LOG_LEVEL: "error",
    WHATSAPP_ROUTING: "agent",
  });
  const background = backgroundTracker();
  return {
    wa: waWebhook({ env, waitUntil: background.waitUntil }),
    genesys: genesysWebhook({ env, waitUntil: background.waitUntil }),
    settled: background.settled,
  };
}
type Fns = ReturnType<typeof functions>;

async function postWa(fn: Fns, body: string) {
  return await fn.wa(
    new Request("http://localhost/wa-webhook", {
      method: "POST",
      headers: { "x-hub-signature-256": await metaSignature(C.whatsappAppSecret, body) },
      body,
    }),
  );
}

async function personSends(fn: Fns, from: string, fixture: string, caption?: string) {
  const f = MEDIA_FIXTURES[fixture];
  const held = await sandbox.media.add(f.bytes, f.mime, fixture);
  const w = whatsappMediaInbound({
    from,
    name: "Ada",
    now: new Date(),
    media: {
      type: f.mime.startsWith("image/") ? "image" : "document",
      id: held.id,
      mime: f.mime,
      sha256: held.sha256,
      caption,
      filename: fixture,
    },
  }, { ...C });
  return { res: await postWa(fn, w.body), wamid: w.providerMessageId };
}

async function agentSends(fn: Fns, to: string, text: string, files: AgentAttachment[]) {
  const { id, body } = agentMessage(
    { messages: sandbox.messages, credentials: { ...C }, now: () => new Date() },
    to,
    text,
    files,
  );
  const res = await fn.genesys(
    new Request("http://localhost/genesys-webhook", {
      method: "POST",
      headers: { "x-hub-signature-256": await genesysSignature(C.genesysWebhookSecret, body) },
      body,
    }),
  );
  return { id, res };
}

/** A file an agent attached, held by the sandbox's Genesys. */
async function attachment(bytes: Uint8Array, mime: string, filename: string) {
  const held = await sandbox.media.add(bytes, mime, filename);
  const mediaType = mime.startsWith("image/") ? "Image" as const : "File" as const;
  return {
    url: `${served.url}/genesys/api/v2/downloads/${held.id}`,
    mime,
    filename,
    mediaType,
  };
}

const genesysPosts = () =>
  sandbox.messages.list({ provider: "genesys" }).map((m) => JSON.parse(m.request_body));

describe("WhatsApp media → Genesys", () => {
  it("an image reaches Genesys as an Attachment whose URL downloads the same bytes", async () => {
    const fn = functions();
    const { res, wamid } = await personSends(fn, "+250788500001", "photo.png", "my receipt");
    expect(res.status).toBe(200);
    await fn.settled();

    const [posted] = genesysPosts();
    expect(posted.text).toBe("my receipt");
    expect(posted.content).toEqual([{
      contentType: "Attachment",
      attachment: {
        mediaType: "Image",
        url: expect.stringContaining(`${storage.url}/storage/v1/object/sign/media-inbound/`),
        mime: "image/png",
        // WhatsApp names documents only: an image is named after its media id.
        filename: expect.stringMatching(/^\d+\.png$/),
      },
    }]);
    const download = await fetch(posted.content[0].attachment.url);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(MEDIA_FIXTURES["photo.png"].bytes);

    // The row says where the file is kept, for the console to sign a fresh link.
    const [row] = await db.sql<{ stored: Record<string, unknown> }[]>`
      select metadata -> 'stored_media' as stored from public.message_delivery_log
      where provider_message_id = ${wamid}`;
    expect(row.stored).toMatchObject({
      bucket: "media-inbound",
      mime: "image/png",
      size: MEDIA_FIXTURES["photo.png"].bytes.byteLength,
    });
    // A wamid is base64: a "/" in it becomes "_", so the message stays one folder.
    expect(row.stored.path).toBe(
      `00000000-0000-0000-0000-000000000001/${safeName(wamid, "message")}/${
        posted.content[0].attachment.filename
      }`,
    );
  });

  it("the link Genesys got is refused once its hour is over", async () => {
    const fn = functions();
    await personSends(fn, "+250788500002", "invoice.pdf");
    await fn.settled();
    const url = genesysPosts()[0].content[0].attachment.url as string;
    expect(genesysPosts()[0].content[0].attachment.mediaType).toBe("File");
    expect((await fetch(url)).status).toBe(200);
    clock += 3_601_000;
    const late = await fetch(url);
    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ error: "InvalidJWT", message: "jwt expired" });
  });

  it("a download that fails once is tried again, and the file still reaches Genesys", async () => {
    const fn = functions();
    sandbox.faults.set({ provider: "whatsapp", mode: "fail", status: 500, count: 1 });
    await personSends(fn, "+250788500003", "photo.png");
    await fn.settled();
    const [posted] = genesysPosts();
    expect(posted.content?.[0]?.attachment?.mime).toBe("image/png");
  }, 20_000);
});

describe("Genesys attachments → WhatsApp", () => {
  async function conversationWith(fn: Fns, person: string) {
    const w = whatsappInbound({ from: person, text: "hello", name: "Ada", now: new Date() }, {
      ...C,
    });
    expect((await postWa(fn, w.body)).status).toBe(200);
    await fn.settled();
    sandbox.messages.clear();
  }

  it("an agent's document reaches WhatsApp as a document whose link downloads the same bytes", async () => {
    const fn = functions();
    const person = "+250788600001";
    await conversationWith(fn, person);
    const pdf = MEDIA_FIXTURES["invoice.pdf"];
    const { res } = await agentSends(fn, person, "Your invoice", [
      await attachment(pdf.bytes, pdf.mime, "invoice-1042.pdf"),
    ]);
    expect(res.status).toBe(200);

    const [sent] = sandbox.messages.list({ provider: "whatsapp" });
    expect(sent.media).toMatchObject({
      type: "document",
      caption: "Your invoice",
      filename: "invoice-1042.pdf",
    });
    expect(JSON.parse(sent.request_body).document.link).toBe(sent.media!.link);
    const file = await fetch(sent.media!.link!);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("application/pdf");
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(pdf.bytes);

    // Valid 24 h, not more.
    clock += 23 * 3600_000;
    expect((await fetch(sent.media!.link!)).status).toBe(200);
    clock += 2 * 3600_000;
    expect((await fetch(sent.media!.link!)).status).toBe(400);
  });

  it("a type WhatsApp refuses gets the agent a Failed receipt saying so; nothing is sent", async () => {
    const fn = functions();
    const person = "+250788600002";
    await conversationWith(fn, person);
    const gif = MEDIA_FIXTURES["animation.gif"];
    const { id } = await agentSends(fn, person, "", [
      await attachment(gif.bytes, gif.mime, "dance.gif"),
    ]);
    expect(sandbox.messages.list({ provider: "whatsapp" })).toHaveLength(0);
    const receipt = genesysPosts().find((p) => p.id === id);
    expect(receipt).toMatchObject({
      status: "Failed",
      reasons: [{
        code: "MediaTypeNotAllowed",
        message: expect.stringContaining("WhatsApp does not accept image/gif as image"),
      }],
    });
  });

  it("an image over WhatsApp's 5 MB gets a Failed receipt naming the limit", async () => {
    const fn = functions();
    const person = "+250788600003";
    await conversationWith(fn, person);
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(MEDIA_FIXTURES["photo.png"].bytes);
    const { id } = await agentSends(fn, person, "", [
      await attachment(big, "image/png", "huge.png"),
    ]);
    expect(sandbox.messages.list({ provider: "whatsapp" })).toHaveLength(0);
    const receipt = genesysPosts().find((p) => p.id === id);
    expect(receipt).toMatchObject({
      status: "Failed",
      reasons: [{ code: "InvalidMediaContentLength", message: expect.stringContaining("5 MB") }],
    });
  });
});
