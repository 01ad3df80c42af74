import { z } from "zod";
import type { SandboxContext } from "./provider.ts";

/**
 * Files the sandbox holds for its providers: what a person "sends" on WhatsApp (downloaded with
 * `GET /whatsapp/{version}/{media-id}` and then its URL, both with the bearer token) and what a
 * Genesys agent attaches (`GET /genesys/api/v2/downloads/{id}`, with the OAuth token).
 */
export interface SandboxFile {
  id: string;
  bytes: Uint8Array;
  mime: string;
  filename?: string;
  sha256: string;
}

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/**
 * Real files, small enough to keep here: a 1×1 PNG, a one-page PDF, a 1×1 GIF (a type WhatsApp
 * does not take), and a plain-text note.
 */
export const MEDIA_FIXTURES: Record<string, { mime: string; bytes: Uint8Array }> = {
  "photo.png": {
    mime: "image/png",
    bytes: fromBase64(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    ),
  },
  "invoice.pdf": {
    mime: "application/pdf",
    bytes: new TextEncoder().encode(
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
        "3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\n" +
        "trailer<</Root 1 0 R>>\n%%EOF\n",
    ),
  },
  "animation.gif": {
    mime: "image/gif",
    bytes: fromBase64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"),
  },
  "note.txt": { mime: "text/plain", bytes: new TextEncoder().encode("Order 1042: 2 items\n") },
};

export class MediaFiles {
  private files = new Map<string, SandboxFile>();

  async add(bytes: Uint8Array, mime: string, filename?: string): Promise<SandboxFile> {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
    const file: SandboxFile = {
      id: String(1_000_000_000_000_000n + BigInt(this.files.size + 1)),
      bytes,
      mime,
      filename,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    };
    this.files.set(file.id, file);
    return file;
  }

  get(id: string): SandboxFile | undefined {
    return this.files.get(id);
  }
}

const stores = new WeakMap<SandboxContext, MediaFiles>();

export function mediaFiles(ctx: SandboxContext): MediaFiles {
  let s = stores.get(ctx);
  if (!s) stores.set(ctx, s = new MediaFiles());
  return s;
}

/**
 * A file in a control request: a fixture by name (`photo.png`, `invoice.pdf`, `animation.gif`,
 * `note.txt`) or base64 bytes with their MIME type; `size` pads a fixture (a file over a limit).
 */
export const FileSpec = z.object({
  fixture: z.string().optional(),
  base64: z.string().max(14_000_000).optional(),
  mime: z.string().max(255).optional(),
  filename: z.string().max(240).optional(),
  size: z.number().int().positive().max(200 * 1024 * 1024).optional(),
});

/** A fixture by name, or the bytes given (base64), as a file the sandbox holds. */
export function fileOf(
  spec: { fixture?: string; base64?: string; mime?: string; size?: number },
): { bytes: Uint8Array; mime: string } | null {
  if (spec.fixture) {
    const f = MEDIA_FIXTURES[spec.fixture];
    if (!f) return null;
    // `size`: the fixture padded to that many bytes (a file over a limit, still of its type).
    const bytes = spec.size && spec.size > f.bytes.byteLength
      ? (() => {
        const b = new Uint8Array(spec.size);
        b.set(f.bytes);
        return b;
      })()
      : f.bytes;
    return { bytes, mime: spec.mime ?? f.mime };
  }
  if (spec.base64 && spec.mime) return { bytes: fromBase64(spec.base64), mime: spec.mime };
  return null;
}

export function fileResponse(file: SandboxFile): Response {
  return new Response(file.bytes as BodyInit, {
    headers: {
      "content-type": file.mime,
      "content-length": String(file.bytes.byteLength),
      ...(file.filename
        ? { "content-disposition": `attachment; filename="${file.filename.replace(/"/g, "")}"` }
        : {}),
    },
  });
}
