import { z } from "zod";
import type { ChannelFailure } from "../outbound/adapter.ts";
import { exchange, httpFailure, joinUrl } from "../channels/http.ts";
import { downloadCapped, type Downloaded } from "./download.ts";
import { bareMime, WHATSAPP_MAX_MEDIA_BYTES } from "./limits.ts";

/** `GET /{media-id}`: where a received file can be downloaded (for 5 minutes), and what it is. */
const MediaUrl = z.object({
  url: z.url(),
  mime_type: z.string().max(255),
  sha256: z.string().max(256).optional(),
  file_size: z.coerce.number().int().nonnegative().optional(),
  id: z.string(),
}).loose();

export interface WhatsAppMediaSource {
  /** WHATSAPP_API_BASE_URL (`https://graph.facebook.com/v21.0`). */
  baseUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

/**
 * A file a person sent on WhatsApp: its URL from the Graph API (`GET /{media-id}` with the
 * number's token), then the bytes from that URL with the same bearer token, capped at the
 * largest file WhatsApp carries and checked against the hash Meta states.
 */
export async function downloadWhatsAppMedia(
  src: WhatsAppMediaSource,
  accessToken: string,
  mediaId: string,
): Promise<{ ok: true; file: Downloaded } | { ok: false; error: ChannelFailure }> {
  const auth = { authorization: `Bearer ${accessToken}` };
  const lookup = await exchange(src.fetch, joinUrl(src.baseUrl, encodeURIComponent(mediaId)), {
    headers: auth,
  }, src.timeoutMs);
  if (!lookup.ok) return { ok: false, error: lookup.failure };
  if (lookup.reply.status !== 200) return { ok: false, error: httpFailure(lookup.reply) };
  const media = MediaUrl.safeParse(lookup.reply.json);
  if (!media.success) {
    return {
      ok: false,
      error: {
        class: "retryable",
        code: "MEDIA.UNREADABLE",
        message: "No media URL in the answer",
      },
    };
  }
  const got = await downloadCapped(src.fetch, media.data.url, {
    headers: auth,
    maxBytes: WHATSAPP_MAX_MEDIA_BYTES,
    timeoutMs: src.timeoutMs,
    what: "WhatsApp media",
  });
  if (!got.ok) return got;
  if (media.data.sha256 && !(await hashMatches(got.file.bytes, media.data.sha256))) {
    return {
      ok: false,
      error: {
        class: "retryable",
        code: "MEDIA.CHECKSUM_MISMATCH",
        message: "The downloaded file does not match its SHA-256",
      },
    };
  }
  return { ok: true, file: { bytes: got.file.bytes, mime: bareMime(media.data.mime_type) } };
}

/** Meta states the SHA-256 as hex in some answers and base64 in others: either matches. */
async function hashMatches(bytes: Uint8Array, stated: string): Promise<boolean> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const b64 = btoa(String.fromCharCode(...digest));
  return stated.toLowerCase() === hex || stated === b64;
}
