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

export const whatsapp: ProviderEndpoint = {
  name: "whatsapp",
  handle(req, path, ctx) {
    const n = path.match(/^\/v\d+\.\d+\/([^/]+)$/);
    if (n && req.method === "GET") {
      return Promise.resolve(phoneNumber(req, decodeURIComponent(n[1]), ctx));
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
