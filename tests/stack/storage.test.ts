import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageClient } from "@supabase/storage-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorageHandler, withStorage } from "../../scripts/stack/storage.ts";
import { LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";
import { serve, type Served } from "../support/serve.ts";

const SECRET_KEY = "sb_secret_storage-test-key";
const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255, 254]);

describe("local Storage API, driven by storage-js", () => {
  let dir: string;
  let served: Served;
  let clock = Date.now();
  const clientWith = (key: string) =>
    new StorageClient(`${served.url}/storage/v1`, { apikey: key, authorization: `Bearer ${key}` });
  const storage = () => clientWith(SECRET_KEY);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "storage-"));
    const handler = createStorageHandler({
      dir,
      jwtSecret: LOCAL_JWT_SECRET,
      serviceKeys: [SECRET_KEY],
      now: () => clock,
    });
    served = await serve(withStorage(handler, () => Promise.resolve(new Response("gateway"))));
  });
  afterAll(async () => {
    await served.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a private bucket once, and says so the second time", async () => {
    const first = await storage().createBucket("media-inbound", { public: false });
    expect(first.error).toBeNull();
    expect(first.data).toEqual({ name: "media-inbound" });
    const again = await storage().createBucket("media-inbound", { public: false });
    expect(again.error?.message).toBe("The resource already exists");
    const got = await storage().getBucket("media-inbound");
    expect(got.data).toMatchObject({ id: "media-inbound", public: false });
  });

  it("uploads, downloads and signs an object; the signed URL works without a key", async () => {
    const up = await storage().from("media-inbound").upload(
      "acct/wamid.1/photo one.png",
      new Blob([bytes], { type: "image/png" }),
      { contentType: "image/png" },
    );
    expect(up.error).toBeNull();
    expect(up.data?.fullPath).toBe("media-inbound/acct/wamid.1/photo one.png");

    const down = await storage().from("media-inbound").download("acct/wamid.1/photo one.png");
    expect(new Uint8Array(await down.data!.arrayBuffer())).toEqual(bytes);
    expect(down.data!.type).toBe("image/png");

    const signed = await storage().from("media-inbound").createSignedUrl(
      "acct/wamid.1/photo one.png",
      3600,
    );
    expect(signed.data?.signedUrl).toMatch(
      new RegExp(`^${served.url}/storage/v1/object/sign/media-inbound/acct/wamid.1/photo`),
    );
    const res = await fetch(signed.data!.signedUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it("refuses a signed URL once it has expired, and one used for another object", async () => {
    await storage().from("media-inbound").upload("a.bin", bytes, { contentType: "image/png" });
    await storage().from("media-inbound").upload("b.bin", bytes, { contentType: "image/png" });
    const { data } = await storage().from("media-inbound").createSignedUrl("a.bin", 60);
    const url = data!.signedUrl;
    expect((await fetch(url)).status).toBe(200);

    const other = url.replace("/a.bin?", "/b.bin?");
    const wrong = await fetch(other);
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: "InvalidSignature" });

    clock += 61_000;
    const expired = await fetch(url);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toEqual({
      statusCode: "400",
      error: "InvalidJWT",
      message: "jwt expired",
    });
  });

  it("does not overwrite without upsert, and does with it", async () => {
    const path = "dup.txt";
    await storage().from("media-inbound").upload(path, "one", { contentType: "text/plain" });
    const again = await storage().from("media-inbound").upload(path, "two");
    expect(again.error?.message).toBe("The resource already exists");
    await storage().from("media-inbound").upload(path, "three", {
      upsert: true,
      contentType: "text/plain",
    });
    const down = await storage().from("media-inbound").download(path);
    expect(await down.data!.text()).toBe("three");
  });

  it("enforces the bucket's size cap and MIME types", async () => {
    await storage().createBucket("capped", {
      public: false,
      fileSizeLimit: 4,
      allowedMimeTypes: ["image/png"],
    });
    const big = await storage().from("capped").upload("x.png", bytes, {
      contentType: "image/png",
    });
    expect((big.error as { status?: number })?.status).toBe(413);
    const wrongType = await storage().from("capped").upload("x.txt", "abc", {
      contentType: "text/plain",
    });
    expect((wrongType.error as { status?: number })?.status).toBe(415);
  });

  it("refuses anything but a service key, and paths that climb out", async () => {
    const anon = clientWith("sb_publishable_nope");
    const denied = await anon.from("media-inbound").download("a.bin");
    expect((denied.error as { status?: number })?.status).toBe(403);
    const climb = await fetch(`${served.url}/storage/v1/object/media-inbound/..%2F..%2Fetc`, {
      headers: { authorization: `Bearer ${SECRET_KEY}` },
    });
    expect(climb.status).toBe(400);
    const missing = await storage().from("media-inbound").download("nope.png");
    expect((missing.error as { status?: number })?.status).toBe(404);
  });

  it("leaves every other path to the gateway", async () => {
    expect(await (await fetch(`${served.url}/functions/v1/health`)).text()).toBe("gateway");
  });
});
