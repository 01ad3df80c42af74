import { z } from "zod";
import { headerSubset, json, parseJson, randomBase64, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";

/**
 * Meta's Send API and profile API as Messenger and Instagram use them:
 * `POST /meta/{version}/me/messages` (Bearer page or Instagram token) with a message or a
 * `sender_action`, answered `{recipient_id, message_id}`; `GET /meta/{version}/{id}?fields=…`
 * answers a made-up profile for any id. Limits as Meta enforces them: 2,000 characters on
 * Messenger, 1,000 on Instagram, 13 quick replies with titles of 20.
 */

/** The sandbox's Messenger page and Instagram account (their ids in the webhooks it sends). */
export const META_PAGE = { pageId: "100000000000002", instagramAccountId: "17800000000000003" };

const QuickReply = z.object({
  content_type: z.enum(["text", "user_phone_number", "user_email"]),
  title: z.string().max(20).optional(),
  payload: z.string().max(1000).optional(),
}).loose();

const Message = z.object({
  text: z.string().min(1).optional(),
  attachment: z.object({ type: z.string(), payload: z.record(z.string(), z.unknown()) }).loose()
    .optional(),
  quick_replies: z.array(QuickReply).max(13).optional(),
  metadata: z.string().max(1000).optional(),
}).loose().refine((m) => m.text !== undefined || m.attachment !== undefined, "text or attachment");

const Body = z.object({
  recipient: z.object({ id: z.string().min(1) }),
  messaging_type: z.enum(["RESPONSE", "UPDATE", "MESSAGE_TAG"]).optional(),
  tag: z.string().optional(),
  message: Message.optional(),
  sender_action: z.enum(["mark_seen", "typing_on", "typing_off"]).optional(),
});

export function graphError(status: number, code: number, message: string, subcode?: number) {
  return json({
    error: {
      message,
      type: "OAuthException",
      code,
      ...(subcode ? { error_subcode: subcode } : {}),
      fbtrace_id: randomBase64(16),
    },
  }, status);
}

function channelOf(req: Request, ctx: SandboxContext): "messenger" | "instagram" | null {
  const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token === ctx.credentials.messengerPageAccessToken) return "messenger";
  if (token === ctx.credentials.instagramAccessToken) return "instagram";
  return null;
}

async function send(req: Request, ctx: SandboxContext): Promise<Response> {
  const channel = channelOf(req, ctx);
  if (!channel) {
    return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token");
  }
  const raw = await readText(req);
  const parsed = Body.safeParse(raw === null ? undefined : parseJson(raw));
  if (!parsed.success) {
    return graphError(
      400,
      100,
      `(#100) ${parsed.error.issues[0].path.join(".")}: ${parsed.error.issues[0].message}`,
    );
  }
  const b = parsed.data;
  if (b.sender_action) return json({ recipient_id: b.recipient.id });
  if (!b.message) return graphError(400, 100, "(#100) The parameter message is required");
  if (b.messaging_type === "MESSAGE_TAG" && b.tag !== "HUMAN_AGENT") {
    return graphError(400, 100, "(#100) Tag is invalid");
  }
  const limit = channel === "messenger" ? 2000 : 1000;
  if ((b.message.text ?? "").length > limit) {
    return graphError(
      400,
      100,
      `(#100) Length of param message[text] must be less than or equal to ${limit}`,
    );
  }
  const id = `m_${randomBase64(32)}`;
  ctx.messages.record({
    id,
    provider: channel,
    channel,
    to: b.recipient.id,
    from: channel === "messenger" ? META_PAGE.pageId : META_PAGE.instagramAccountId,
    body: b.message.text ?? `[${b.message.attachment?.type ?? "attachment"}]`,
    request_body: raw ?? "",
    headers: headerSubset(req),
    received_at: ctx.now().toISOString(),
  });
  return json({ recipient_id: b.recipient.id, message_id: id });
}

function profile(req: Request, id: string, ctx: SandboxContext): Response {
  const channel = channelOf(req, ctx);
  if (!channel) {
    return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token");
  }
  const fields = new URL(req.url).searchParams.get("fields")?.split(",") ?? [];
  const suffix = id.slice(-4);
  const all: Record<string, string> = channel === "messenger"
    ? {
      first_name: "Sandbox",
      last_name: `Person ${suffix}`,
      profile_pic: `https://sandbox.invalid/p/${id}.jpg`,
    }
    : {
      name: `Sandbox Person ${suffix}`,
      username: `sandbox.${suffix}`,
      profile_pic: `https://sandbox.invalid/p/${id}.jpg`,
    };
  return json({
    id,
    ...Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k))),
  });
}

export const meta: ProviderEndpoint = {
  name: "meta",
  handle(req, path, ctx) {
    if (req.method === "POST" && /^\/v\d+\.\d+\/me\/messages$/.test(path)) return send(req, ctx);
    const m = path.match(/^\/v\d+\.\d+\/([^/]+)$/);
    if (req.method === "GET" && m) {
      return Promise.resolve(profile(req, decodeURIComponent(m[1]), ctx));
    }
    return Promise.resolve(graphError(400, 100, "Unsupported request"));
  },
  failure: (status) =>
    status === 429
      ? graphError(429, 613, "Calls to this api have exceeded the rate limit.")
      : graphError(status, 2, "An unexpected error has occurred. Please retry your request later."),
};
