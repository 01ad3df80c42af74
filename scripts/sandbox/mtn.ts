import { z } from "zod";
import { smsSegments } from "./sms-segments.ts";
import { bearerToken, headerSubset, json, parseJson, randomHex, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";

/**
 * An MTN-style SMS gateway, modelled on MTN's SMS v3 API: OAuth client credentials at
 * `/v1/oauth/access_token`, then `POST /v3/sms/messages/sms/outbound` with the token as Bearer.
 * Status codes are four-digit strings: "0000" is success, an error is its HTTP status × 10.
 */

const TOKEN_TTL_S = 3600;

const OutboundSchema = z.object({
  senderAddress: z.string().min(1).max(11),
  receiverAddress: z.array(z.string().regex(/^\+?[1-9]\d{5,14}$/, "must be an MSISDN")).min(1),
  message: z.string().min(1).max(1600),
  clientCorrelatorId: z.string().max(128).optional(),
  requestDeliveryReceipt: z.boolean().optional(),
}).loose();

const mtnError = (status: number, statusCode: string, statusMessage: string) =>
  json({ statusCode, statusMessage, transactionId: crypto.randomUUID() }, status);

const oauthError = (status: number, error: string, description: string) =>
  json({ error, error_description: description }, status);

/** Tokens the sandbox issued, with their expiry in ms since the epoch. */
const issued = new WeakMap<SandboxContext, Map<string, number>>();

function tokensOf(ctx: SandboxContext): Map<string, number> {
  let tokens = issued.get(ctx);
  if (!tokens) issued.set(ctx, tokens = new Map());
  return tokens;
}

async function issueToken(req: Request, url: URL, ctx: SandboxContext): Promise<Response> {
  if (url.searchParams.get("grant_type") !== "client_credentials") {
    return oauthError(400, "unsupported_grant_type", "grant_type must be client_credentials");
  }
  const form = new URLSearchParams((await readText(req)) ?? "");
  if (
    form.get("client_id") !== ctx.credentials.mtnApiKey ||
    form.get("client_secret") !== ctx.credentials.mtnApiSecret
  ) {
    return oauthError(401, "invalid_client", "Client credentials are invalid");
  }
  const token = randomHex(16);
  tokensOf(ctx).set(token, ctx.now().getTime() + TOKEN_TTL_S * 1000);
  return json({ access_token: token, token_type: "Bearer", expires_in: TOKEN_TTL_S });
}

async function sendSms(req: Request, ctx: SandboxContext): Promise<Response> {
  const token = bearerToken(req);
  const expiry = token ? tokensOf(ctx).get(token) : undefined;
  if (!expiry || expiry < ctx.now().getTime()) {
    return mtnError(401, "4010", "Invalid or expired access token");
  }
  const raw = await readText(req);
  const parsed = OutboundSchema.safeParse(raw === null ? undefined : parseJson(raw));
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return mtnError(400, "4000", `Bad request: ${problem}`);
  }
  const sms = parsed.data;
  const requestId = randomHex(12);
  const receivedAt = ctx.now().toISOString();
  sms.receiverAddress.forEach((to, i) => {
    ctx.messages.record({
      id: sms.receiverAddress.length === 1 ? requestId : `${requestId}:${i}`,
      provider: "mtn",
      channel: "sms",
      to: to.startsWith("+") ? to : `+${to}`,
      from: sms.senderAddress,
      body: sms.message,
      segments: smsSegments(sms.message),
      request_body: raw ?? "",
      headers: headerSubset(req),
      received_at: receivedAt,
    });
  });
  return json({
    statusCode: "0000",
    statusMessage: "Created",
    transactionId: crypto.randomUUID(),
    data: { requestId, clientCorrelatorId: sms.clientCorrelatorId ?? null, status: "ACCEPTED" },
  }, 201);
}

export const mtn: ProviderEndpoint = {
  name: "mtn",
  handle(req, path, ctx) {
    const url = new URL(req.url);
    if (req.method === "POST" && path === "/v1/oauth/access_token") {
      return issueToken(req, url, ctx);
    }
    if (req.method === "POST" && path === "/v3/sms/messages/sms/outbound") return sendSms(req, ctx);
    return Promise.resolve(mtnError(404, "4040", "Resource not found"));
  },
  failure: (status) => mtnError(status, String(status * 10), "Service unavailable"),
};
