import type { ChannelFailure } from "../outbound/adapter.ts";
import {
  bareMime,
  whatsappMediaProblem,
  type WhatsAppMediaType,
  whatsappTypeOf,
} from "./limits.ts";
import { type MediaStore, OUTBOUND_LINK_SECONDS, safeName } from "./storage.ts";

/**
 * A file to send, as an outbound row carries it (`metadata.media`): the WhatsApp message type,
 * a link the provider fetches it from (a signed URL valid 24 h), and where it is stored.
 */
export interface OutboundMedia {
  type: WhatsAppMediaType;
  link: string;
  mime: string;
  size: number;
  caption?: string;
  filename?: string;
  bucket?: string;
  path?: string;
}

export type Staged = { ok: true; media: OutboundMedia } | { ok: false; error: ChannelFailure };

/**
 * Checks a file against what WhatsApp takes (type and size), keeps it in `media-outbound` and
 * signs a 24-hour link to it. A file WhatsApp would refuse is refused here, before anything is
 * stored or sent, with the reason.
 */
export async function stageOutboundMedia(
  store: MediaStore,
  file: { bytes: Uint8Array; mime: string; filename?: string },
  at: {
    prefix: string;
    type?: WhatsAppMediaType;
    caption?: string;
    /** Already in `media-outbound` at this path: checked and linked, not stored again. */
    existingPath?: string;
  },
): Promise<Staged> {
  const mime = bareMime(file.mime);
  const type = at.type ?? whatsappTypeOf(mime);
  const problem = whatsappMediaProblem(type, mime, file.bytes.byteLength);
  if (problem) return { ok: false, error: problem };
  const name = safeName(file.filename ?? "", `file.${mime.split("/")[1] ?? "bin"}`);
  const path = at.existingPath ?? `${at.prefix}/${name}`;
  if (!at.existingPath) {
    await store.put(
      { bucket: "media-outbound", path, mime, size: file.bytes.byteLength },
      file.bytes,
    );
  }
  const link = await store.signedUrl("media-outbound", path, OUTBOUND_LINK_SECONDS);
  return {
    ok: true,
    media: {
      type,
      link,
      mime,
      size: file.bytes.byteLength,
      ...(at.caption && captionable(type) ? { caption: at.caption } : {}),
      ...(type === "document" && file.filename ? { filename: file.filename } : {}),
      bucket: "media-outbound",
      path,
    },
  };
}

/** WhatsApp shows a caption under an image, a video or a document; audio and stickers have none. */
export const captionable = (type: WhatsAppMediaType) =>
  type === "image" || type === "video" || type === "document";
