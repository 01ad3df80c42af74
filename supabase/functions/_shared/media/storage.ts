import { StorageClient } from "@supabase/storage-js";

/**
 * Media kept in Supabase Storage, private buckets only: what people sent (`media-inbound`) and
 * what agents or API callers send (`media-outbound`). Others get a signed URL that expires.
 * The buckets are created on first use (private), so a fresh project needs no setup step and the
 * same code runs against hosted Storage and the local stack's Storage routes.
 */
export type MediaBucket = "media-inbound" | "media-outbound";

export interface StoredObject {
  bucket: MediaBucket;
  path: string;
  mime: string;
  size: number;
  filename?: string;
}

export interface MediaStore {
  put(object: StoredObject, bytes: Uint8Array): Promise<void>;
  /** A URL that downloads the object without a key, for `expiresIn` seconds. */
  signedUrl(bucket: MediaBucket, path: string, expiresIn: number): Promise<string>;
  /** The object's bytes (with the service key). */
  get(bucket: MediaBucket, path: string): Promise<{ bytes: Uint8Array; mime: string } | null>;
}

/** Signed URLs handed to Genesys agents: 1 hour. */
export const INBOUND_LINK_SECONDS = 3600;
/** Signed URLs WhatsApp (or another channel) fetches the file from: 24 hours. */
export const OUTBOUND_LINK_SECONDS = 24 * 3600;

export class StorageFailure extends Error {
  constructor(readonly operation: string, readonly status: number | undefined, message: string) {
    super(`Storage ${operation} failed: ${message}`);
    this.name = "StorageFailure";
  }
}

const statusOf = (e: unknown) => (e as { status?: number }).status;
const bucketMissing = (e: unknown) =>
  statusOf(e) === 404 || /bucket not found/i.test((e as Error).message ?? "");

export function createMediaStore(cfg: {
  /** SUPABASE_URL: Storage is `<SUPABASE_URL>/storage/v1`. */
  url: string;
  /** A service key (the `default` secret key, or the legacy service-role key). */
  key: string;
  fetch?: typeof fetch;
}): MediaStore {
  const client = new StorageClient(`${cfg.url.replace(/\/+$/, "")}/storage/v1`, {
    apikey: cfg.key,
    authorization: `Bearer ${cfg.key}`,
  }, cfg.fetch);
  const ready = new Map<MediaBucket, Promise<void>>();

  const ensureBucket = (bucket: MediaBucket) => {
    let p = ready.get(bucket);
    if (!p) {
      p = client.createBucket(bucket, { public: false }).then(({ error }) => {
        if (error && statusOf(error) !== 409 && !/already exists/i.test(error.message)) {
          ready.delete(bucket);
          throw new StorageFailure("bucket create", statusOf(error), error.message);
        }
      });
      ready.set(bucket, p);
    }
    return p;
  };

  const upload = (o: StoredObject, bytes: Uint8Array) =>
    client.from(o.bucket).upload(o.path, bytes, { contentType: o.mime, upsert: true });

  return {
    async put(o, bytes) {
      let { error } = await upload(o, bytes);
      if (error && bucketMissing(error)) {
        await ensureBucket(o.bucket);
        ({ error } = await upload(o, bytes));
      }
      if (error) throw new StorageFailure("upload", statusOf(error), error.message);
    },
    async signedUrl(bucket, path, expiresIn) {
      const { data, error } = await client.from(bucket).createSignedUrl(path, expiresIn);
      if (error || !data) {
        throw new StorageFailure("sign", statusOf(error), error?.message ?? "no URL");
      }
      return data.signedUrl;
    },
    async get(bucket, path) {
      const { data, error } = await client.from(bucket).download(path);
      if (error) {
        if (statusOf(error) === 404 || statusOf(error) === 400) return null;
        throw new StorageFailure("download", statusOf(error), error.message);
      }
      return { bytes: new Uint8Array(await data.arrayBuffer()), mime: data.type };
    },
  };
}

/**
 * The function's media store: SUPABASE_URL and its `default` secret key (else the legacy
 * service-role key). Null without them: media then fails clearly where it is needed.
 */
export function mediaStoreOf(
  env: {
    SUPABASE_URL?: string;
    SUPABASE_SECRET_KEYS?: Record<string, string>;
    SUPABASE_SERVICE_ROLE_KEY?: string;
  },
  fetchFn?: typeof fetch,
): MediaStore | null {
  const keys = env.SUPABASE_SECRET_KEYS ?? {};
  const key = keys.default ?? Object.values(keys)[0] ?? env.SUPABASE_SERVICE_ROLE_KEY;
  if (!env.SUPABASE_URL || !key) return null;
  return createMediaStore({ url: env.SUPABASE_URL, key, fetch: fetchFn });
}

/** A path segment from a name someone else chose: no separators, nothing that could climb. */
export function safeName(name: string, fallback: string): string {
  // deno-lint-ignore no-control-regex
  const cleaned = name.normalize("NFC").replace(/[\/\\\0-\u001f\u007f]+/g, "_")
    .replace(/^\.+/, "_").slice(-120);
  return cleaned.trim() || fallback;
}
