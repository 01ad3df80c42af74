import type { ChannelFailure } from "../outbound/adapter.ts";

/**
 * What WhatsApp Cloud API accepts as media ("Supported media types" in Meta's Cloud API
 * reference): per message type, the MIME types and the largest file. A file outside these is
 * refused before anything is sent, with a reason a person can act on — never dropped.
 */
export type WhatsAppMediaType = "image" | "video" | "audio" | "document" | "sticker";

const MB = 1024 * 1024;

export const WHATSAPP_MEDIA: Record<WhatsAppMediaType, { maxBytes: number; mimes: string[] }> = {
  image: { maxBytes: 5 * MB, mimes: ["image/jpeg", "image/png"] },
  video: { maxBytes: 16 * MB, mimes: ["video/mp4", "video/3gp", "video/3gpp"] },
  // audio/ogg only with the Opus codec, which is what WhatsApp voice notes are.
  audio: {
    maxBytes: 16 * MB,
    mimes: ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
  },
  document: {
    maxBytes: 100 * MB,
    mimes: [
      "text/plain",
      "application/pdf",
      "application/vnd.ms-excel",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/msword",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.ms-powerpoint",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ],
  },
  // 500 KB animated, 100 KB static: the larger cap, as an animated sticker cannot be told apart
  // from its bytes' size alone.
  sticker: { maxBytes: 500 * 1024, mimes: ["image/webp"] },
};

/** The largest file any WhatsApp media message takes (a document): the download cap. */
export const WHATSAPP_MAX_MEDIA_BYTES = WHATSAPP_MEDIA.document.maxBytes;

/** `audio/ogg; codecs=opus` → `audio/ogg`. */
export const bareMime = (mime: string): string => mime.split(";")[0].trim().toLowerCase();

/** The WhatsApp message type a file of this MIME type is sent as (anything else: a document). */
export function whatsappTypeOf(mime: string): WhatsAppMediaType {
  const m = bareMime(mime);
  for (const type of ["image", "video", "audio"] as const) {
    if (WHATSAPP_MEDIA[type].mimes.includes(m)) return type;
  }
  if (m === "image/webp") return "sticker";
  return "document";
}

/** Why WhatsApp would refuse this file as this type, or null when it takes it. */
export function whatsappMediaProblem(
  type: WhatsAppMediaType,
  mime: string,
  size: number,
): ChannelFailure | null {
  const rule = WHATSAPP_MEDIA[type];
  if (!rule.mimes.includes(bareMime(mime))) {
    return {
      class: "permanent",
      code: "MEDIA.UNSUPPORTED_TYPE",
      message: `WhatsApp does not accept ${bareMime(mime) || "this file type"} as ${type}` +
        ` (accepted: ${rule.mimes.join(", ")})`,
    };
  }
  if (size > rule.maxBytes) return tooLarge(type, size, rule.maxBytes);
  return null;
}

export function tooLarge(what: string, size: number, maxBytes: number): ChannelFailure {
  return {
    class: "permanent",
    code: "MEDIA.TOO_LARGE",
    message: `The ${what} is ${sizeText(size)}; the limit is ${sizeText(maxBytes)}`,
  };
}

function sizeText(bytes: number): string {
  if (bytes >= MB) return `${Math.round((bytes / MB) * 10) / 10} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}
