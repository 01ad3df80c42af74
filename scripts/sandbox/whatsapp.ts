import { z } from "zod";
import { headerSubset, json, parseJson, randomBase64, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";
import { fileResponse, mediaFiles } from "./media.ts";

/** WhatsApp Cloud API: `POST /whatsapp/{version}/{phone-number-id}/messages`, Bearer token. */

const Recipient = z.string().regex(/^\+?[1-9]\d{5,14}$/, "must be a phone number");

// Meta rejects a template parameter with a newline, a tab or more than 4 spaces (132018).
const TemplateParameter = z.object({ type: z.literal("text"), text: z.string().min(1) });

/** A media object: by link (WhatsApp fetches it) or by an uploaded media id. */
const MediaObject = z.object({
  link: z.url().optional(),
  id: z.string().optional(),
  caption: z.string().max(1024).optional(),
  filename: z.string().max(240).optional(),
}).refine((m) => Boolean(m.link) !== Boolean(m.id), "exactly one of link or id is required");

const mediaMessage = <T extends string>(type: T) =>
  z.object(
    { type: z.literal(type), [type]: MediaObject } as
      & { type: z.ZodLiteral<T> }
      & {
        [K in T]: typeof MediaObject;
      },
  );

const MEDIA_TYPES = ["image", "video", "audio", "document", "sticker"] as const;

const MessageSchema = z.discriminatedUnion("type", [
  mediaMessage("image"),
  mediaMessage("video"),
  mediaMessage("audio"),
  mediaMessage("document"),
  mediaMessage("sticker"),
  z.object({
    type: z.literal("text"),
    text: z.object({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() }),
  }),
  z.object({
    type: z.literal("template"),
    template: z.object({
      name: z.string().min(1).max(512),
      language: z.object({ code: z.string().min(2) }),
      components: z.array(
        z.object({
          type: z.enum(["header", "body", "button"]),
          parameters: z.array(TemplateParameter).optional(),
        }).loose(),
      ).optional(),
    }),
  }),
]);

const Envelope = z.object({
  messaging_product: z.literal("whatsapp"),
  recipient_type: z.literal("individual").optional(),
  to: Recipient,
  context: z.object({ message_id: z.string() }).optional(),
}).loose();

function metaError(
  status: number,
  code: number,
  message: string,
  extra: { subcode?: number; details?: string } = {},
): Response {
  return json({
    error: {
      message,
      type: "OAuthException",
      code,
      ...(extra.subcode ? { error_subcode: extra.subcode } : {}),
      ...(extra.details
        ? { error_data: { messaging_product: "whatsapp", details: extra.details } }
        : {}),
      fbtrace_id: randomBase64(16),
    },
  }, status);
}

const invalid = (details: string) => metaError(400, 100, "(#100) Invalid parameter", { details });

async function sendMessage(
  req: Request,
  phoneNumberId: string,
  ctx: SandboxContext,
): Promise<Response> {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) {
    return metaError(401, 190, "An active access token must be used to query information.");
  }
  if (token !== ctx.credentials.whatsappAccessToken) {
    return metaError(401, 190, "Invalid OAuth access token - Cannot parse access token");
  }
  if (phoneNumberId !== ctx.credentials.whatsappPhoneNumberId) {
    return metaError(
      400,
      100,
      `Unsupported post request. Object with ID '${phoneNumberId}' does not exist`,
      {
        subcode: 33,
      },
    );
  }
  const raw = await readText(req);
  const body = raw === null ? undefined : parseJson(raw);
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) return invalid(describe(envelope.error));
  const message = MessageSchema.safeParse(body);
  if (!message.success) return invalid(describe(message.error));

  const m = message.data;
  const parameters = m.type === "template"
    ? (m.template.components ?? []).filter((c) => c.type === "body")
      .flatMap((c) => c.parameters ?? []).map((p) => p.text)
    : [];
  if (parameters.some((p) => /[\n\t]| {5,}/.test(p))) {
    return metaError(400, 132018, "There was an issue with the parameters in your template.", {
      details: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
    });
  }

  const to = envelope.data.to;
  const waId = to.replace(/^\+/, "");
  const media = (MEDIA_TYPES as readonly string[]).includes(m.type)
    ? { type: m.type, ...(m as unknown as Record<string, z.infer<typeof MediaObject>>)[m.type] }
    : undefined;
  const id = `wamid.${randomBase64(36)}`;
  ctx.messages.record({
    id,
    provider: "whatsapp",
    channel: "whatsapp",
    to: waId,
    from: phoneNumberId,
    body: m.type === "text"
      ? m.text.body
      : m.type === "template"
      ? parameters.join("\n")
      : media?.caption ?? "",
    ...(media ? { media } : {}),
    ...(m.type === "template"
      ? { template: { name: m.template.name, language: m.template.language.code, parameters } }
      : {}),
    request_body: raw ?? "",
    headers: headerSubset(req),
    received_at: ctx.now().toISOString(),
  });
  return json({
    messaging_product: "whatsapp",
    contacts: [{ input: to, wa_id: waId }],
    messages: [{ id }],
  });
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

/**
 * The sandbox business account's templates, as `GET /{waba-id}/message_templates` lists them:
 * the post-call template, two order updates, and one Meta paused (a send with it is refused
 * before it reaches here).
 */
const TEMPLATES = [
  ["call_summary", "APPROVED", "Thanks for your call. Summary: {{1}}"],
  ["order_confirmed", "APPROVED", "Your order {{1}} is confirmed. Thank you!"],
  ["order_shipped", "APPROVED", "Your order {{1}} has shipped. Track it: {{2}}"],
  ["order_delivered", "APPROVED", "Your order {{1}} was delivered."],
  ["order_delayed", "PAUSED", "Your order {{1}} is delayed."],
].map(([name, status, text], i) => ({
  id: String(1_100_000 + i),
  name,
  language: "en",
  status,
  category: "UTILITY",
  components: [{ type: "BODY", text }],
}));

function listTemplates(req: Request, businessAccountId: string, ctx: SandboxContext): Response {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token !== ctx.credentials.whatsappAccessToken) {
    return metaError(401, 190, "An active access token must be used to query information.");
  }
  if (businessAccountId !== ctx.credentials.whatsappBusinessAccountId) {
    return metaError(
      400,
      100,
      `Unsupported get request. Object with ID '${businessAccountId}' does not exist`,
    );
  }
  return json({ data: TEMPLATES, paging: { cursors: { before: "0", after: "0" } } });
}

/**
 * `GET /{version}/{phone-number-id}`, the lookup a portal makes to check a token before saving
 * it: the sandbox business account holds every 15-digit phone number id, as Meta issues them (so a
 * second tenant can be onboarded with another number), and only the sandbox token may read them.
 */
function phoneNumber(req: Request, phoneNumberId: string, ctx: SandboxContext): Response {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token !== ctx.credentials.whatsappAccessToken) {
    return metaError(401, 190, "Invalid OAuth access token - Cannot parse access token");
  }
  if (!/^\d{15}$/.test(phoneNumberId)) {
    return metaError(
      400,
      100,
      `Unsupported get request. Object with ID '${phoneNumberId}' does not exist, cannot be ` +
        "loaded due to missing permissions, or does not support this operation",
      { subcode: 33 },
    );
  }
  return json({
    verified_name: "Sandbox Business",
    display_phone_number: `+1 555 ${phoneNumberId.slice(-7, -4)} ${phoneNumberId.slice(-4)}`,
    quality_rating: "GREEN",
    id: phoneNumberId,
  });
}

/**
 * `GET /{version}/{media-id}`: where a received file can be downloaded, as the Cloud API answers
 * (`{messaging_product, url, mime_type, sha256, file_size, id}`); the URL needs the token too.
 */
function mediaUrl(req: Request, mediaId: string, ctx: SandboxContext): Response {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token !== ctx.credentials.whatsappAccessToken) {
    return metaError(401, 190, "An active access token must be used to query information.");
  }
  const file = mediaFiles(ctx).get(mediaId);
  if (!file) {
    return metaError(
      400,
      100,
      `Unsupported get request. Object with ID '${mediaId}' does not exist`,
    );
  }
  return json({
    messaging_product: "whatsapp",
    url: `${new URL(req.url).origin}/whatsapp/media/download/${file.id}?ext=${Date.now()}`,
    mime_type: file.mime,
    sha256: file.sha256,
    file_size: file.bytes.byteLength,
    id: file.id,
  });
}

/** The media URL itself: the bytes, for the same bearer token only. */
function mediaDownload(req: Request, mediaId: string, ctx: SandboxContext): Response {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token !== ctx.credentials.whatsappAccessToken) return new Response(null, { status: 401 });
  const file = mediaFiles(ctx).get(mediaId);
  return file ? fileResponse(file) : new Response(null, { status: 404 });
}

export const whatsapp: ProviderEndpoint = {
  name: "whatsapp",
  handle(req, path, ctx) {
    const download = path.match(/^\/media\/download\/([^/]+)$/);
    if (download && req.method === "GET") {
      return Promise.resolve(mediaDownload(req, decodeURIComponent(download[1]), ctx));
    }
    // `GET /{version}/{id}`: a media id this sandbox holds answers its download URL; any other id
    // is looked up as a phone number id (the portal's credential check).
    const object = path.match(/^\/v\d+\.\d+\/([^/]+)$/);
    if (object && req.method === "GET") {
      const id = decodeURIComponent(object[1]);
      return Promise.resolve(
        mediaFiles(ctx).get(id) ? mediaUrl(req, id, ctx) : phoneNumber(req, id, ctx),
      );
    }
    const t = path.match(/^\/v\d+\.\d+\/([^/]+)\/message_templates$/);
    if (t && req.method === "GET") {
      return Promise.resolve(listTemplates(req, decodeURIComponent(t[1]), ctx));
    }
    const m = path.match(/^\/v\d+\.\d+\/([^/]+)\/messages$/);
    if (!m) return Promise.resolve(metaError(400, 100, "Unknown path components"));
    if (req.method !== "POST") {
      return Promise.resolve(metaError(400, 100, "Unsupported get request."));
    }
    return sendMessage(req, decodeURIComponent(m[1]), ctx);
  },
  failure: (status) =>
    status === 429
      ? metaError(429, 130429, "Rate limit hit", {
        details: "Cloud API message throughput has been reached.",
      })
      : metaError(status, 131000, "Something went wrong", { details: "Something went wrong" }),
};
