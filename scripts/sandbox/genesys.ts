import { z } from "zod";
import { bearerToken, headerSubset, json, parseJson, randomHex, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";
import { fileResponse, mediaFiles } from "./media.ts";

/**
 * Genesys Cloud, the parts Open Messaging uses: OAuth client credentials at `/oauth/token`
 * (Basic client_id:client_secret, form `grant_type=client_credentials`, the login host), and the
 * integration's inbound endpoints `/api/v2/conversations/messages/{integrationId}/inbound/open/
 * message` and `…/receipt` (Bearer token, the API host). Both hosts are this sandbox under
 * `/genesys`. Every message and receipt it accepts is recorded (provider `genesys`); an agent's
 * answer goes back through the control API (`POST /__sandbox/agent-reply`).
 */

const TOKEN_TTL_S = 86_400;
const PATH = /^\/api\/v2\/conversations\/messages\/([^/]+)\/inbound\/open\/(message|receipt)$/;

const From = z.object({
  id: z.string().min(1),
  idType: z.enum(["Phone", "Email", "Opaque"]),
  nickname: z.string().optional(),
}).loose();

const InboundMessage = z.object({
  channel: z.object({
    messageId: z.string().min(1),
    from: From,
    time: z.iso.datetime({ offset: true }),
  }).loose(),
  text: z.string().optional(),
  content: z.array(
    z.object({
      contentType: z.literal("Attachment"),
      attachment: z.object({
        mediaType: z.enum(["Image", "Video", "Audio", "File"]),
        url: z.url(),
        mime: z.string().min(1),
        filename: z.string().optional(),
      }).loose(),
    }).loose(),
  ).optional(),
}).loose().refine((m) => m.text || m.content?.length, "text or content is required");

const Receipt = z.object({
  id: z.string().min(1),
  channel: z.object({ to: z.object({ id: z.string().min(1) }).loose() }).loose(),
  status: z.enum(["Published", "Delivered", "Read", "Failed", "Sent", "Removed"]),
  reasons: z.array(z.object({ code: z.string(), message: z.string().optional() }).loose())
    .optional(),
  direction: z.literal("Outbound"),
  isFinalReceipt: z.boolean().optional(),
}).loose();

const genesysError = (status: number, code: string, message: string) =>
  json({ message, code, status, contextId: crypto.randomUUID(), details: [], errors: [] }, status);

interface GenesysState {
  tokens: Map<string, number>;
  tokenRequests: number;
}

const states = new WeakMap<SandboxContext, GenesysState>();

export function genesysState(ctx: SandboxContext): GenesysState {
  let s = states.get(ctx);
  if (!s) states.set(ctx, s = { tokens: new Map(), tokenRequests: 0 });
  return s;
}

async function issueToken(req: Request, ctx: SandboxContext): Promise<Response> {
  const state = genesysState(ctx);
  state.tokenRequests++;
  const form = new URLSearchParams((await readText(req)) ?? "");
  if (form.get("grant_type") !== "client_credentials") {
    return json({ error: "unsupported_grant_type" }, 400);
  }
  const basic = req.headers.get("authorization")?.match(/^Basic (.+)$/)?.[1];
  const expected = btoa(
    `${ctx.credentials.genesysClientId}:${ctx.credentials.genesysClientSecret}`,
  );
  if (basic !== expected) {
    return json({ error: "invalid_client", description: "client credentials are invalid" }, 401);
  }
  const token = randomHex(24);
  state.tokens.set(token, ctx.now().getTime() + TOKEN_TTL_S * 1000);
  return json({ access_token: token, token_type: "bearer", expires_in: TOKEN_TTL_S });
}

async function inbound(
  req: Request,
  ctx: SandboxContext,
  integrationId: string,
  kind: string,
): Promise<Response> {
  const token = bearerToken(req);
  const expiry = token ? genesysState(ctx).tokens.get(token) : undefined;
  if (!expiry || expiry < ctx.now().getTime()) {
    return genesysError(401, "authentication.required", "No authentication bearer token specified");
  }
  if (integrationId !== ctx.credentials.genesysIntegrationId) {
    return genesysError(404, "not.found", `Integration ${integrationId} not found`);
  }
  const raw = await readText(req);
  const body = raw === null ? undefined : parseJson(raw);
  const parsed = (kind === "message" ? InboundMessage : Receipt).safeParse(body);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return genesysError(400, "bad.request", problem);
  }
  const id = randomHex(16);
  const receivedAt = ctx.now().toISOString();
  if (kind === "message") {
    const m = parsed.data as z.infer<typeof InboundMessage>;
    ctx.messages.record({
      id,
      provider: "genesys",
      channel: "genesys",
      to: integrationId,
      from: m.channel.from.id,
      body: m.text ?? "",
      request_body: raw ?? "",
      headers: headerSubset(req),
      received_at: receivedAt,
    });
    return json({
      id,
      channel: { ...m.channel, id: integrationId, platform: "Open", type: "Private" },
      type: "Text",
      text: m.text,
      content: m.content ?? [],
      direction: "Inbound",
      conversationId: `conv-${m.channel.from.id.replace(/\D/g, "")}`,
    });
  }
  const r = parsed.data as z.infer<typeof Receipt>;
  ctx.messages.record({
    id,
    provider: "genesys",
    channel: "genesys",
    to: integrationId,
    from: r.channel.to.id,
    body: `receipt ${r.status}${
      r.reasons?.length
        ? `: ${r.reasons.map((x) => `${x.code} ${x.message ?? ""}`.trim()).join("; ")}`
        : ""
    }`,
    request_body: raw ?? "",
    headers: headerSubset(req),
    received_at: receivedAt,
  });
  return json({ id: r.id, channel: r.channel, status: r.status, direction: "Outbound" }, 202);
}

/** An agent's attachment, as Genesys serves it: the bytes, for a valid bearer token only. */
function download(req: Request, ctx: SandboxContext, id: string): Response {
  const token = bearerToken(req);
  const expiry = token ? genesysState(ctx).tokens.get(token) : undefined;
  if (!expiry || expiry < ctx.now().getTime()) {
    return genesysError(401, "authentication.required", "No authentication bearer token specified");
  }
  const file = mediaFiles(ctx).get(id);
  return file ? fileResponse(file) : genesysError(404, "not.found", `Download ${id} not found`);
}

export const genesys: ProviderEndpoint = {
  name: "genesys",
  handle(req, path, ctx) {
    if (req.method === "POST" && path === "/oauth/token") return issueToken(req, ctx);
    const d = req.method === "GET" ? path.match(/^\/api\/v2\/downloads\/([^/]+)$/) : null;
    if (d) return Promise.resolve(download(req, ctx, decodeURIComponent(d[1])));
    const m = req.method === "POST" ? path.match(PATH) : null;
    if (m) return inbound(req, ctx, decodeURIComponent(m[1]), m[2]);
    return Promise.resolve(genesysError(404, "not.found", "Resource not found"));
  },
  failure: (status) => genesysError(status, "service.unavailable", "Service unavailable"),
};

/** One file an agent attached: where Genesys serves it from, and what it is. */
export interface AgentAttachment {
  url: string;
  mime: string;
  filename?: string;
  mediaType: "Image" | "Video" | "Audio" | "File";
}

/**
 * An agent's message (text and/or attachments), as Genesys posts it to the integration's
 * outbound webhook.
 */
export function agentMessage(
  ctx: SandboxContext,
  to: string,
  text: string,
  attachments: AgentAttachment[] = [],
): { id: string; body: string } {
  const id = randomHex(16);
  const body = JSON.stringify({
    id,
    channel: { ...agentChannel(ctx, to), messageId: id },
    type: "Text",
    ...(text ? { text } : {}),
    ...(attachments.length
      ? {
        content: attachments.map((a) => ({
          contentType: "Attachment",
          attachment: { id: randomHex(8), ...a },
        })),
      }
      : {}),
    direction: "Outbound",
    conversationId: `conv-${to.replace(/\D/g, "")}`,
  });
  return { id, body };
}

/**
 * The agent ends the conversation: a Presence `Disconnect` event, as Genesys posts it to the
 * integration's outbound webhook (genesys-webhook hands the conversation back to the AI).
 */
export function agentDisconnect(ctx: SandboxContext, to: string): { id: string; body: string } {
  const id = randomHex(16);
  const body = JSON.stringify({
    id,
    channel: agentChannel(ctx, to),
    type: "Event",
    events: [{ eventType: "Presence", presence: { type: "Disconnect" } }],
    direction: "Outbound",
    conversationId: `conv-${to.replace(/\D/g, "")}`,
  });
  return { id, body };
}

/** The `channel` of a notification from the integration's agent side to the person at `to`. */
function agentChannel(ctx: SandboxContext, to: string) {
  return {
    id: ctx.credentials.genesysIntegrationId,
    platform: "Open",
    type: "Private",
    to: { id: to, idType: "Phone" },
    from: { id: ctx.credentials.genesysIntegrationId, idType: "Opaque", nickname: "Agent" },
    time: ctx.now().toISOString(),
  };
}
