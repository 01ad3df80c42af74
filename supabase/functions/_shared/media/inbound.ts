import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { InboundMessage, RecordedInbound } from "../conversations/record-inbound.ts";
import type { OpenAttachment } from "../channels/genesys.ts";
import type { WhatsAppAccount } from "../tenants/accounts.ts";
import type { ChannelFailure } from "../outbound/adapter.ts";
import { downloadWhatsAppMedia, type WhatsAppMediaSource } from "./whatsapp-media.ts";
import { INBOUND_LINK_SECONDS, type MediaStore, safeName, type StoredObject } from "./storage.ts";

export interface InboundMediaDeps {
  sql: Sql;
  /** Null when the function has no SUPABASE_URL / service key: the file is then not fetched. */
  store: MediaStore | null;
  source: WhatsAppMediaSource;
  /** WHATSAPP_ACCESS_TOKEN: the env-configured number's token, for accounts without their own. */
  defaultToken?: string;
  /** Waits between download attempts (a failed download is tried again after each). */
  retryDelaysMs: number[];
  sleep?: (ms: number) => Promise<void>;
}

const MEDIA_TYPES = new Set(["image", "video", "audio", "document", "sticker"]);

interface ReceivedMedia {
  id: string;
  mime_type: string;
  caption?: string;
  filename?: string;
}

const mediaOf = (m: InboundMessage): ReceivedMedia | null => {
  const media = m.metadata?.media as ReceivedMedia | undefined;
  return MEDIA_TYPES.has(m.messageType) && typeof media?.id === "string" ? media : null;
};

/** The caption a person wrote under a file, if any. */
export const captionOf = (m: InboundMessage): string | undefined => mediaOf(m)?.caption;

/** Open Messaging's media type for a WhatsApp message type. */
function openMediaType(type: string): OpenAttachment["attachment"]["mediaType"] {
  if (type === "image" || type === "sticker") return "Image";
  if (type === "video") return "Video";
  if (type === "audio") return "Audio";
  return "File";
}

/**
 * The file a person sent, as an Open Messaging attachment: downloaded from WhatsApp (tried again
 * after each of `retryDelaysMs` when it fails for a reason that can pass), kept in
 * `media-inbound` under `<tenant>/<wamid>/<name>`, recorded on the message's row
 * (`metadata.stored_media`, so the console can sign a fresh link), and linked for 1 h. Null when
 * the message has no file or it could not be fetched: the message then goes with its
 * description ("[image: image/jpeg]") and the failure is logged.
 */
export async function inboundAttachment(
  deps: InboundMediaDeps,
  m: InboundMessage,
  recorded: RecordedInbound,
  account: WhatsAppAccount,
  log: Logger,
): Promise<OpenAttachment | null> {
  const media = mediaOf(m);
  if (!media) return null;
  const token = account.accessToken ?? deps.defaultToken;
  if (!deps.store || !token) {
    log.error("MEDIA_NOT_CONFIGURED", {
      reason: deps.store ? "no WhatsApp access token" : "no Storage (SUPABASE_URL, secret key)",
    });
    return null;
  }
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let failure: ChannelFailure | null = null;
  for (let attempt = 0; attempt <= deps.retryDelaysMs.length; attempt++) {
    if (attempt > 0) await sleep(deps.retryDelaysMs[attempt - 1]);
    const got = await downloadWhatsAppMedia(deps.source, token, media.id);
    if (!got.ok) {
      failure = got.error;
      log.warn("MEDIA_DOWNLOAD_FAILED", {
        media_id: media.id,
        attempt: attempt + 1,
        error_code: got.error.code,
        error_class: got.error.class,
      });
      if (got.error.class !== "retryable") break;
      continue;
    }
    const mime = media.mime_type.split(";")[0].trim() || got.file.mime;
    const name = safeName(media.filename ?? "", `${safeName(media.id, "media")}.${extOf(mime)}`);
    const object: StoredObject = {
      bucket: "media-inbound",
      path: `${safeName(account.tenantId, "tenant")}/${
        safeName(m.providerMessageId, "message")
      }/${name}`,
      mime,
      size: got.file.bytes.byteLength,
      ...(media.filename ? { filename: media.filename } : {}),
    };
    let url: string;
    try {
      await deps.store.put(object, got.file.bytes);
      url = await deps.store.signedUrl(object.bucket, object.path, INBOUND_LINK_SECONDS);
    } catch (err) {
      failure = {
        class: "retryable",
        code: "MEDIA.STORAGE_FAILED",
        message: err instanceof Error ? err.message : String(err),
      };
      log.warn("MEDIA_STORE_FAILED", { media_id: media.id, attempt: attempt + 1 });
      continue;
    }
    await rpcValue(deps.sql, "record_message_media", {
      p_delivery_id: recorded.deliveryId,
      p_object: { ...object },
    });
    log.info("MEDIA_STORED", { bucket: object.bucket, size: object.size, mime });
    return {
      contentType: "Attachment",
      attachment: {
        mediaType: openMediaType(m.messageType),
        url,
        mime,
        filename: media.filename ?? name,
      },
    };
  }
  log.error("MEDIA_NOT_FORWARDED", { media_id: media.id, error_code: failure?.code });
  return null;
}

const EXT: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "video/mp4": "mp4",
  "video/3gpp": "3gp",
  "audio/ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/aac": "aac",
  "audio/amr": "amr",
  "application/pdf": "pdf",
  "text/plain": "txt",
};

function extOf(mime: string): string {
  return EXT[mime] ?? "bin";
}

/**
 * The attachment of a message whose file was kept (`metadata.stored_media`, written by
 * inboundAttachment), linked afresh for 1 h: what a post retried later carries. Null without a
 * kept file or a store.
 */
export async function storedAttachment(
  store: MediaStore | null,
  metadata: Record<string, unknown>,
): Promise<{ attachment: OpenAttachment; caption: string } | null> {
  const object = metadata.stored_media as StoredObject | undefined;
  if (!store || typeof object?.bucket !== "string" || typeof object.path !== "string") return null;
  const url = await store.signedUrl(object.bucket, object.path, INBOUND_LINK_SECONDS);
  const mime = String(object.mime ?? "application/octet-stream");
  const mediaType = mime.startsWith("image/")
    ? "Image"
    : mime.startsWith("video/")
    ? "Video"
    : mime.startsWith("audio/")
    ? "Audio"
    : "File";
  const caption = (metadata.media as { caption?: unknown } | undefined)?.caption;
  return {
    attachment: {
      contentType: "Attachment",
      attachment: {
        mediaType,
        url,
        mime,
        filename: object.filename ?? object.path.split("/").pop() ?? "file",
      },
    },
    caption: typeof caption === "string" ? caption : "",
  };
}
