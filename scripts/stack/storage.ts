import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { jwtVerify, SignJWT } from "jose";

/**
 * The Supabase Storage API routes the functions use, served from files, for the local stack
 * (hosted Storage needs Docker locally; no Storage-compatible server installs from npm —
 * `@supabase/storage-api` is not published there). The wire format is hosted Storage's, so
 * supabase-js `storage` (storage-js) works unchanged against both:
 *
 * - `POST /storage/v1/bucket` `{id, name, public, file_size_limit, allowed_mime_types}`,
 *   `GET /storage/v1/bucket[/{id}]`
 * - `POST|PUT /storage/v1/object/{bucket}/{path}` (raw body or storage-js's multipart form;
 *   `x-upsert: true` to overwrite) → `{Key, Id}`
 * - `GET /storage/v1/object[/authenticated]/{bucket}/{path}` → the bytes
 * - `DELETE /storage/v1/object/{bucket}` `{prefixes}`
 * - `POST /storage/v1/object/sign/{bucket}/{path}` `{expiresIn}` → `{signedURL}` (relative to
 *   `/storage/v1`, as hosted answers), a JWT `{url: "bucket/path", iat, exp}` signed HS256 with the
 *   project's JWT secret, like hosted Storage's
 * - `GET /storage/v1/object/sign/{bucket}/{path}?token=…` → the bytes, without any key; an
 *   expired token or one for another object is refused (400 `InvalidJWT`)
 *
 * Every other route needs a service key (`authorization: Bearer` or `apikey`): there is no
 * storage.objects RLS here, so anon and user tokens are refused rather than given everything.
 * Errors are hosted Storage's `{statusCode, error, message}`.
 *
 * Layout under `dir`: `buckets/<id>.json`, `objects/<bucket>/<path>` (the bytes) and
 * `meta/<bucket>/<path>.json` (content type, size, etag, times).
 */
export interface StorageOptions {
  /** Where buckets and objects are kept (`.data/storage` for `npm start`). */
  dir: string;
  /** Signs and checks the signed-URL tokens. */
  jwtSecret: string;
  /** The keys that may use the API (the stack's secret key and legacy service-role key). */
  serviceKeys: string[];
  now?: () => number;
}

interface Bucket {
  id: string;
  name: string;
  owner: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
  created_at: string;
  updated_at: string;
}

interface ObjectMeta {
  id: string;
  mimetype: string;
  size: number;
  eTag: string;
  cacheControl: string;
  created_at: string;
  updated_at: string;
}

const PREFIX = "/storage/v1";

const fail = (status: number, error: string, message: string) =>
  Response.json({ statusCode: String(status), error, message }, { status });

const notFound = (what: "Bucket" | "Object") => fail(404, "not_found", `${what} not found`);

/** One path segment of an id or object name, decoded; null for anything that could escape. */
function segments(raw: string): string[] | null {
  const parts = raw.split("/").filter((s) => s !== "");
  const out: string[] = [];
  for (const p of parts) {
    let s: string;
    try {
      s = decodeURIComponent(p);
    } catch {
      return null;
    }
    if (s === "." || s === ".." || /[\/\\\0]/.test(s) || s.length > 255) return null;
    out.push(s);
  }
  return out.length ? out : null;
}

export function createStorageHandler(opts: StorageOptions) {
  const secret = new TextEncoder().encode(opts.jwtSecret);
  const now = opts.now ?? Date.now;
  const keys = new Set(opts.serviceKeys.filter(Boolean));
  const bucketFile = (id: string) => join(opts.dir, "buckets", `${id}.json`);
  const objectFile = (b: string, p: string[]) => join(opts.dir, "objects", b, ...p);
  const metaFile = (b: string, p: string[]) => join(opts.dir, "meta", b, ...p) + ".json";

  const readJson = async <T>(file: string): Promise<T | null> => {
    try {
      return JSON.parse(await readFile(file, "utf8")) as T;
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return null;
      throw err;
    }
  };
  // Written beside and renamed: a reader never sees half a file.
  const writeAtomic = async (file: string, data: Uint8Array | string) => {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  };

  const authorized = (req: Request): boolean => {
    const bearer = req.headers.get("authorization")?.match(/^Bearer (.+)$/)?.[1];
    const apikey = req.headers.get("apikey");
    return [bearer, apikey].some((k) => k !== undefined && k !== null && keys.has(k));
  };

  async function createBucket(req: Request): Promise<Response> {
    const body = await req.json().catch(() => null) as Partial<Bucket> | null;
    const id = typeof body?.id === "string" ? body.id : body?.name;
    if (typeof id !== "string" || !segments(id) || segments(id)!.length !== 1) {
      return fail(400, "InvalidRequest", "Bucket name invalid");
    }
    if (await readJson<Bucket>(bucketFile(id))) {
      return fail(409, "Duplicate", "The resource already exists");
    }
    const at = new Date(now()).toISOString();
    const bucket: Bucket = {
      id,
      name: typeof body?.name === "string" ? body.name : id,
      owner: "",
      public: body?.public === true,
      file_size_limit: typeof body?.file_size_limit === "number" ? body.file_size_limit : null,
      allowed_mime_types: Array.isArray(body?.allowed_mime_types)
        ? body.allowed_mime_types.filter((m): m is string => typeof m === "string")
        : null,
      created_at: at,
      updated_at: at,
    };
    await writeAtomic(bucketFile(id), JSON.stringify(bucket));
    return Response.json({ name: id });
  }

  async function upload(req: Request, bucketId: string, path: string[]): Promise<Response> {
    const bucket = await readJson<Bucket>(bucketFile(bucketId));
    if (!bucket) return notFound("Bucket");
    let bytes: Uint8Array;
    let mimetype = req.headers.get("content-type") ?? "application/octet-stream";
    let cacheControl = req.headers.get("cache-control")?.replace(/^max-age=/, "") ?? "3600";
    if (mimetype.startsWith("multipart/form-data")) {
      // storage-js sends a Blob as a form: the file under "" and its cacheControl.
      const form = await req.formData();
      const file = [...form.values()].find((v): v is File => typeof v !== "string");
      if (!file) return fail(400, "InvalidRequest", "No file in the form");
      bytes = new Uint8Array(await file.arrayBuffer());
      mimetype = file.type || "application/octet-stream";
      const cc = form.get("cacheControl");
      if (typeof cc === "string") cacheControl = cc;
    } else {
      bytes = new Uint8Array(await req.arrayBuffer());
    }
    mimetype = mimetype.split(";")[0].trim();
    if (bucket.file_size_limit !== null && bytes.byteLength > bucket.file_size_limit) {
      return fail(413, "Payload too large", "The object exceeded the maximum allowed size");
    }
    if (bucket.allowed_mime_types?.length && !bucket.allowed_mime_types.includes(mimetype)) {
      return fail(415, "invalid_mime_type", `mime type ${mimetype} is not supported`);
    }
    const existing = await readJson<ObjectMeta>(metaFile(bucketId, path));
    const upsert = req.method === "PUT" || req.headers.get("x-upsert") === "true";
    if (existing && !upsert) return fail(409, "Duplicate", "The resource already exists");
    const at = new Date(now()).toISOString();
    const meta: ObjectMeta = {
      id: existing?.id ?? crypto.randomUUID(),
      mimetype,
      size: bytes.byteLength,
      eTag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      cacheControl: `max-age=${cacheControl}`,
      created_at: existing?.created_at ?? at,
      updated_at: at,
    };
    await writeAtomic(objectFile(bucketId, path), bytes);
    await writeAtomic(metaFile(bucketId, path), JSON.stringify(meta));
    return Response.json({ Key: `${bucketId}/${path.join("/")}`, Id: meta.id });
  }

  async function download(bucketId: string, path: string[]): Promise<Response> {
    const meta = await readJson<ObjectMeta>(metaFile(bucketId, path));
    if (!meta) return notFound("Object");
    const bytes = await readFile(objectFile(bucketId, path));
    return new Response(bytes, {
      headers: {
        "content-type": meta.mimetype,
        "content-length": String(bytes.byteLength),
        "cache-control": meta.cacheControl,
        etag: meta.eTag,
        "last-modified": new Date(meta.updated_at).toUTCString(),
      },
    });
  }

  async function sign(req: Request, bucketId: string, path: string[]): Promise<Response> {
    const body = await req.json().catch(() => null) as { expiresIn?: unknown } | null;
    const expiresIn = Number(body?.expiresIn);
    if (!Number.isInteger(expiresIn) || expiresIn < 1) {
      return fail(400, "InvalidRequest", "expiresIn must be a positive whole number of seconds");
    }
    if (!await readJson<ObjectMeta>(metaFile(bucketId, path))) return notFound("Object");
    const url = `${bucketId}/${path.join("/")}`;
    const iat = Math.floor(now() / 1000);
    const token = await new SignJWT({ url })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(iat + expiresIn)
      .sign(secret);
    // Not encoded, as hosted Storage answers: storage-js encodes the whole URL (encodeURI).
    return Response.json({ signedURL: `/object/sign/${url}?token=${token}` });
  }

  async function signedDownload(url: URL, bucketId: string, path: string[]): Promise<Response> {
    const token = url.searchParams.get("token");
    if (!token) {
      return fail(400, "InvalidRequest", "querystring must have required property 'token'");
    }
    let claim: unknown;
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ["HS256"],
        currentDate: new Date(now()),
      });
      claim = payload.url;
    } catch (err) {
      const expired = (err as { code?: string }).code === "ERR_JWT_EXPIRED";
      return fail(400, "InvalidJWT", expired ? "jwt expired" : "invalid signature");
    }
    if (claim !== `${bucketId}/${path.join("/")}`) {
      return fail(400, "InvalidSignature", "The url do not match the signature");
    }
    return download(bucketId, path);
  }

  async function remove(req: Request, bucketId: string): Promise<Response> {
    const body = await req.json().catch(() => null) as { prefixes?: unknown } | null;
    const names = Array.isArray(body?.prefixes) ? body.prefixes : [];
    const removed: { name: string; bucket_id: string }[] = [];
    for (const name of names) {
      const path = typeof name === "string" ? segments(name) : null;
      if (!path || !await readJson<ObjectMeta>(metaFile(bucketId, path))) continue;
      await rm(objectFile(bucketId, path), { force: true });
      await rm(metaFile(bucketId, path), { force: true });
      removed.push({ name: path.join("/"), bucket_id: bucketId });
    }
    return Response.json(removed);
  }

  async function listBuckets(id?: string): Promise<Response> {
    if (id) {
      const bucket = await readJson<Bucket>(bucketFile(id));
      return bucket ? Response.json(bucket) : notFound("Bucket");
    }
    const dir = join(opts.dir, "buckets");
    const names = await readdir(dir).catch(() => [] as string[]);
    const all = await Promise.all(
      names.filter((n) => n.endsWith(".json")).map((n) => readJson<Bucket>(join(dir, n))),
    );
    return Response.json(all.filter(Boolean));
  }

  return (req: Request): Promise<Response> | Response => {
    const url = new URL(req.url);
    const rest = url.pathname.slice(PREFIX.length);
    const signed = rest.match(/^\/object\/sign\/([^/]+)\/(.+)$/);
    if (signed && req.method === "GET") {
      const path = segments(signed[2]);
      if (!segments(signed[1]) || !path) return fail(400, "InvalidKey", "Invalid key");
      return signedDownload(url, decodeURIComponent(signed[1]), path);
    }
    if (!authorized(req)) {
      return fail(403, "Unauthorized", "A service key is required for this Storage API");
    }
    if (rest === "/bucket" || rest === "/bucket/") {
      if (req.method === "POST") return createBucket(req);
      if (req.method === "GET") return listBuckets();
    }
    const bucketOne = rest.match(/^\/bucket\/([^/]+)$/);
    if (bucketOne && req.method === "GET") return listBuckets(decodeURIComponent(bucketOne[1]));

    if (signed && req.method === "POST") {
      const path = segments(signed[2]);
      if (!segments(signed[1]) || !path) return fail(400, "InvalidKey", "Invalid key");
      return sign(req, decodeURIComponent(signed[1]), path);
    }
    const removeMatch = rest.match(/^\/object\/([^/]+)\/?$/);
    if (removeMatch && req.method === "DELETE") {
      return remove(req, decodeURIComponent(removeMatch[1]));
    }
    const object = rest.match(/^\/object\/(?:authenticated\/)?([^/]+)\/(.+)$/);
    if (object) {
      const path = segments(object[2]);
      const bucketId = decodeURIComponent(object[1]);
      if (!segments(object[1]) || !path) return fail(400, "InvalidKey", "Invalid key");
      if (req.method === "POST" || req.method === "PUT") return upload(req, bucketId, path);
      if (req.method === "GET") return download(bucketId, path);
    }
    return fail(404, "not_found", "Route not found");
  };
}

/**
 * The local API origin: `/storage/v1/*` to Storage, everything else to the functions gateway
 * (stack.ts serves this on the gateway's port, where SUPABASE_URL points).
 */
export function withStorage(
  storage: (req: Request) => Promise<Response> | Response,
  gateway: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const path = new URL(req.url).pathname;
    return path === PREFIX || path.startsWith(`${PREFIX}/`) ? await storage(req) : gateway(req);
  };
}

/**
 * The stack's Storage: `.data/storage` beside the embedded database (a temporary directory,
 * removed at stop, for a `memory://` stack), open to the stack's secret keys and legacy
 * service-role key, served on the gateway's port as a mount (`/storage/v1/`).
 */
export async function startStorageApi(o: {
  root: string;
  dataDir?: string;
  jwtSecret: string;
  keys: { secret: string; secretKeys: string; serviceRole: string };
}) {
  const throwaway = o.dataDir === "memory://";
  const dir = throwaway
    ? await mkdtemp(join(tmpdir(), "stack-storage-"))
    : join(o.root, ".data/storage");
  const serviceKeys = [
    o.keys.secret,
    o.keys.serviceRole,
    ...Object.values(JSON.parse(o.keys.secretKeys) as Record<string, string>),
  ];
  const handler = createStorageHandler({ dir, jwtSecret: o.jwtSecret, serviceKeys });
  return {
    dir,
    /** For `createGateway({ mounts })`: every `/storage/v1/…` request, untouched. */
    mount: { prefix: `${PREFIX}/`, handler },
    stop: () => throwaway ? rm(dir, { recursive: true, force: true }) : Promise.resolve(),
  };
}
