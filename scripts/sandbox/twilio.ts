import { smsSegments } from "./sms-segments.ts";
import { headerSubset, json, randomHex, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";

/**
 * Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, Basic auth
 * (AccountSid:AuthToken), form-encoded, answered with Twilio's message resource or its error
 * shape `{code, message, more_info, status}`.
 */

const E164 = /^\+[1-9]\d{6,14}$/;

const twilioError = (status: number, code: number, message: string) =>
  json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, status);

// RFC 2822 dates, as Twilio writes them.
const rfc2822 = (d: Date) => d.toUTCString().replace("GMT", "+0000");

function basicAuth(req: Request): [string, string] | null {
  const m = req.headers.get("authorization")?.match(/^Basic\s+(\S+)$/i);
  if (!m) return null;
  try {
    const decoded = atob(m[1]);
    const colon = decoded.indexOf(":");
    return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  } catch {
    return null;
  }
}

async function createMessage(
  req: Request,
  accountSid: string,
  ctx: SandboxContext,
): Promise<Response> {
  const auth = basicAuth(req);
  if (
    !auth || auth[0] !== ctx.credentials.twilioAccountSid ||
    auth[1] !== ctx.credentials.twilioAuthToken || accountSid !== auth[0]
  ) {
    return twilioError(401, 20003, "Authenticate");
  }
  const raw = (await readText(req)) ?? "";
  const form = new URLSearchParams(raw);
  const to = form.get("To") ?? "";
  const from = form.get("From");
  const service = form.get("MessagingServiceSid");
  const body = form.get("Body");
  if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
  if (!E164.test(to)) {
    return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  }
  if (!from && !service) return twilioError(400, 21603, "A 'From' phone number is required.");
  if (!body) return twilioError(400, 21602, "Message body is required.");
  if (body.length > 1600) {
    return twilioError(
      400,
      21617,
      "The concatenated message body exceeds the 1600 character limit.",
    );
  }

  const sid = `SM${randomHex(16)}`;
  const now = ctx.now();
  const segments = smsSegments(body);
  ctx.messages.record({
    id: sid,
    provider: "twilio",
    channel: "sms",
    to,
    from: from ?? service!,
    body,
    segments,
    request_body: raw,
    headers: headerSubset(req),
    received_at: now.toISOString(),
  });
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
  return json({
    account_sid: accountSid,
    api_version: "2010-04-01",
    body,
    date_created: rfc2822(now),
    date_sent: null,
    date_updated: rfc2822(now),
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    from: from ?? null,
    messaging_service_sid: service ?? null,
    num_media: "0",
    num_segments: String(segments),
    price: null,
    price_unit: "USD",
    sid,
    status: service && !from ? "accepted" : "queued",
    subresource_uris: { media: `${uri}/Media.json` },
    to,
    uri: `${uri}.json`,
  }, 201);
}

export const twilio: ProviderEndpoint = {
  name: "twilio",
  handle(req, path, ctx) {
    const m = path.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/);
    if (!m) return Promise.resolve(twilioError(404, 20404, "The requested resource was not found"));
    if (req.method !== "POST") {
      return Promise.resolve(twilioError(405, 20004, "Method not allowed"));
    }
    return createMessage(req, decodeURIComponent(m[1]), ctx);
  },
  failure: (status) =>
    status === 429
      ? twilioError(429, 20429, "Too Many Requests")
      : twilioError(status, 20500, "Internal Server Error"),
};
