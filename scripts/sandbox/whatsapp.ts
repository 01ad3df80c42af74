import { z } from "zod";
import { headerSubset, json, parseJson, randomBase64, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";

/** WhatsApp Cloud API: `POST /whatsapp/{version}/{phone-number-id}/messages`, Bearer token. */

const Recipient = z.string().regex(/^\+?[1-9]\d{5,14}$/, "must be a phone number");

// Meta rejects a template parameter with a newline, a tab or more than 4 spaces (132018).
const TemplateParameter = z.object({ type: z.literal("text"), text: z.string().min(1) });

const MessageSchema = z.discriminatedUnion("type", [
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
  const id = `wamid.${randomBase64(36)}`;
  ctx.messages.record({
    id,
    provider: "whatsapp",
    channel: "whatsapp",
    to: waId,
    from: phoneNumberId,
    body: m.type === "text" ? m.text.body : parameters.join("\n"),
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

export const whatsapp: ProviderEndpoint = {
  name: "whatsapp",
  handle(req, path, ctx) {
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
