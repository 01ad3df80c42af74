import { serve } from "./serve.ts";

/**
 * Local HTTP servers that speak the providers' wire formats, for adapter and use-case tests.
 * Each records every request, checks credentials the way the provider does, answers a
 * realistic success by default, and answers whatever `replyNext` queued instead (an error body
 * from the builders below, a delay, a malformed body).
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON or as a form, whichever it was. */
  json?: unknown;
  form?: Record<string, string>;
  /** When it arrived (ms since the epoch), for pacing assertions. */
  receivedAt: number;
}

export interface FakeReply {
  status: number;
  /** JSON-encoded unless `raw` is given. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow or hanging provider). */
  delayMs?: number;
}

interface FakeServer {
  /** The base URL to configure the adapter with. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Queues answers for the next sends, in order, instead of the default success. */
  replyNext(...replies: FakeReply[]): void;
  /** Forgets recorded requests and queued answers (between tests). */
  reset(): void;
  close(): Promise<void>;
}

type Route = (req: RecordedRequest, queued: () => FakeReply | undefined) => FakeReply;

async function startFake(prefix: string, route: Route): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const server = await serve(async (request) => {
    const recorded = await record(request);
    requests.push(recorded);
    const reply = route(recorded, () => queue.shift());
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    return new Response(
      reply.raw ?? (reply.body === undefined ? null : JSON.stringify(reply.body)),
      {
        status: reply.status,
        headers: { "content-type": "application/json", ...reply.headers },
      },
    );
  });
  return {
    baseUrl: `${server.url}${prefix}`,
    requests,
    replyNext: (...replies) => queue.push(...replies),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: server.close,
  };
}

async function record(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const body = await request.text();
  const type = request.headers.get("content-type") ?? "";
  const recorded: RecordedRequest = {
    receivedAt: Date.now(),
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(request.headers),
    body,
  };
  if (type.includes("application/json")) {
    try {
      recorded.json = JSON.parse(body);
    } catch {
      // Recorded as text only; the route answers the provider's parse error.
    }
  }
  if (type.includes("application/x-www-form-urlencoded")) {
    recorded.form = Object.fromEntries(new URLSearchParams(body));
  }
  return recorded;
}

/** A URL nothing listens on (connection refused): a port that was free a moment ago. */
export async function refusedUrl(): Promise<string> {
  const server = await serve(() => new Response(null));
  await server.close();
  return server.url;
}

let counter = 0;
const nextId = () => (++counter).toString(16).padStart(8, "0");

// ---------------------------------------------------------------- WhatsApp Cloud API (Graph)

export const WHATSAPP_VERSION_PATH = "/v21.0";

/** Graph API error body, as Meta sends it. */
export function whatsappError(
  code: number,
  message: string,
  opts: { status?: number; details?: string; subcode?: number; type?: string } = {},
): FakeReply {
  return {
    status: opts.status ?? 400,
    body: {
      error: {
        message,
        type: opts.type ?? "OAuthException",
        code,
        ...(opts.subcode ? { error_subcode: opts.subcode } : {}),
        error_data: { messaging_product: "whatsapp", details: opts.details ?? message },
        fbtrace_id: `A${nextId()}`,
      },
    },
  };
}

export interface FakeWhatsApp extends FakeServer {
  accessToken: string;
  phoneNumberId: string;
  businessAccountId: string;
  /** What `GET /{waba-id}/message_templates` lists (Meta's fields), paged by `limit`/`after`. */
  templates: Record<string, unknown>[];
}

export async function startFakeWhatsApp(
  opts: { accessToken?: string; phoneNumberId?: string } = {},
): Promise<FakeWhatsApp> {
  const accessToken = opts.accessToken ?? "wa-test-token";
  const phoneNumberId = opts.phoneNumberId ?? "106540352242922";
  const businessAccountId = "102290129340398";
  const templates: Record<string, unknown>[] = [];
  let baseUrl = "";
  const fake = await startFake(WHATSAPP_VERSION_PATH, (req, queued) => {
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      return whatsappError(190, "Invalid OAuth access token - Cannot parse access token", {
        status: 401,
      });
    }
    if (
      req.method === "GET" &&
      req.path === `${WHATSAPP_VERSION_PATH}/${businessAccountId}/message_templates`
    ) {
      const queuedReply = queued();
      if (queuedReply) return queuedReply;
      const limit = Number(req.query.limit ?? 25);
      const after = Number(req.query.after ?? 0);
      const next = after + limit < templates.length
        ? `${baseUrl}/${businessAccountId}/message_templates?limit=${limit}&after=${after + limit}`
        : undefined;
      return {
        status: 200,
        body: {
          data: templates.slice(after, after + limit),
          paging: { cursors: { before: String(after), after: String(after + limit) }, next },
        },
      };
    }
    if (
      req.method !== "POST" || req.path !== `${WHATSAPP_VERSION_PATH}/${phoneNumberId}/messages`
    ) {
      return whatsappError(100, "Unsupported post request.", { type: "GraphMethodException" });
    }
    const body = req.json as { messaging_product?: string; to?: string } | undefined;
    if (body?.messaging_product !== "whatsapp" || !body.to) {
      return whatsappError(100, "(#100) Invalid parameter");
    }
    return queued() ?? {
      status: 200,
      body: {
        messaging_product: "whatsapp",
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id: `wamid.HBgL${nextId()}`, message_status: "accepted" }],
      },
    };
  });
  baseUrl = fake.baseUrl;
  return {
    ...fake,
    accessToken,
    phoneNumberId,
    businessAccountId,
    templates,
    reset() {
      fake.reset();
      templates.length = 0;
    },
  };
}

// ---------------------------------------------------------------- MTN-style SMS v3 gateway

/** MTN's error body. */
export function mtnError(statusCode: string, statusMessage: string, status = 400): FakeReply {
  return { status, body: { statusCode, statusMessage, transactionId: `tx-${nextId()}` } };
}

export interface FakeMtn extends FakeServer {
  apiKey: string;
  apiSecret: string;
  senderId: string;
  /** Token requests seen so far. */
  tokenRequests(): RecordedRequest[];
  /** Send requests seen so far. */
  sendRequests(): RecordedRequest[];
  /** Invalidates every issued token, as a gateway does when it rotates keys. */
  revokeTokens(): void;
}

export async function startFakeMtn(
  opts: { apiKey?: string; apiSecret?: string; senderId?: string; expiresIn?: number } = {},
): Promise<FakeMtn> {
  const apiKey = opts.apiKey ?? "mtn-key";
  const apiSecret = opts.apiSecret ?? "mtn-secret";
  const senderId = opts.senderId ?? "ACME";
  const valid = new Set<string>();
  let issued = 0;
  const fake = await startFake("", (req, queued) => {
    if (req.path === "/v1/oauth/access_token") {
      if (req.method !== "POST" || req.query.grant_type !== "client_credentials") {
        return { status: 400, body: { error: "unsupported_grant_type" } };
      }
      if (req.form?.client_id !== apiKey || req.form?.client_secret !== apiSecret) {
        return {
          status: 401,
          body: { error: "invalid_client", error_description: "Client credentials are invalid" },
        };
      }
      const token = `mtn-token-${++issued}`;
      valid.add(token);
      // MTN's gateway sends expires_in as a string.
      return {
        status: 200,
        body: {
          access_token: token,
          token_type: "Bearer",
          expires_in: String(opts.expiresIn ?? 3599),
        },
      };
    }
    if (req.path === "/v3/sms/messages/sms/outbound" && req.method === "POST") {
      const bearer = req.headers.authorization?.replace(/^Bearer /, "") ?? "";
      if (!valid.has(bearer)) {
        // The gateway in front of MTN's APIs answers an unknown token with an Apigee fault.
        return {
          status: 401,
          body: {
            fault: {
              faultstring: "Invalid Access Token",
              detail: { errorcode: "keymanagement.service.invalid_access_token" },
            },
          },
        };
      }
      return queued() ?? {
        status: 201,
        body: {
          statusCode: "0000",
          statusMessage: "Created",
          transactionId: `tx-${nextId()}`,
          data: { status: "ACCEPTED", requestId: `mtn-req-${nextId()}` },
        },
      };
    }
    return mtnError("4040", "Resource not found", 404);
  });
  return {
    ...fake,
    apiKey,
    apiSecret,
    senderId,
    tokenRequests: () => fake.requests.filter((r) => r.path === "/v1/oauth/access_token"),
    sendRequests: () => fake.requests.filter((r) => r.path === "/v3/sms/messages/sms/outbound"),
    revokeTokens: () => valid.clear(),
  };
}

// ---------------------------------------------------------------- Twilio Messages API

/** Twilio's REST error body. */
export function twilioError(code: number, message: string, status = 400): FakeReply {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export interface FakeTwilio extends FakeServer {
  accountSid: string;
  authToken: string;
}

export async function startFakeTwilio(
  opts: { accountSid?: string; authToken?: string } = {},
): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? "AC00000000000000000000000000000001";
  const authToken = opts.authToken ?? "twilio-auth-token";
  const expected = `Basic ${btoa(`${accountSid}:${authToken}`)}`;
  const fake = await startFake("", (req, queued) => {
    if (req.headers.authorization !== expected) return twilioError(20003, "Authenticate", 401);
    if (req.method !== "POST" || req.path !== `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
      return twilioError(20404, "The requested resource was not found", 404);
    }
    const form = req.form ?? {};
    if (!form.To) return twilioError(21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid) {
      return twilioError(21603, "A 'From' phone number is required.");
    }
    const queuedReply = queued();
    if (queuedReply) return queuedReply;
    const now = new Date().toUTCString();
    return {
      status: 201,
      body: {
        sid: `SM${nextId()}${"0".repeat(24)}`,
        account_sid: accountSid,
        to: form.To,
        from: form.From ?? null,
        messaging_service_sid: form.MessagingServiceSid ?? null,
        body: form.Body,
        status: "queued",
        num_segments: "1",
        direction: "outbound-api",
        date_created: now,
        date_updated: now,
        error_code: null,
        error_message: null,
        api_version: "2010-04-01",
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/SM.json`,
      },
    };
  });
  return { ...fake, accountSid, authToken };
}

// ---------------------------------------------------------------- Meta Send API (Messenger/Instagram)

/** A Graph error as the Send API answers it (code, optional subcode). */
export function graphError(
  code: number,
  message: string,
  opts: { status?: number; subcode?: number; type?: string } = {},
): FakeReply {
  return {
    status: opts.status ?? 400,
    body: {
      error: {
        message,
        type: opts.type ?? "OAuthException",
        code,
        ...(opts.subcode ? { error_subcode: opts.subcode } : {}),
        fbtrace_id: `A${nextId()}`,
      },
    },
  };
}

export interface FakeMeta extends FakeServer {
  /** The Messenger page token and the Instagram account token. */
  pageToken: string;
  instagramToken: string;
  /** Profiles the profile API answers, by PSID / IGSID. */
  profiles: Map<string, Record<string, string>>;
}

/**
 * The Graph API as Messenger and Instagram use it: `POST /v21.0/me/messages` (a message, or a
 * `sender_action`) answered `{recipient_id, message_id}`, and `GET /v21.0/{id}?fields=…` from
 * `profiles`. A wrong token is Meta's 190.
 */
export async function startFakeMeta(): Promise<FakeMeta> {
  const pageToken = "messenger-page-token";
  const instagramToken = "instagram-account-token";
  const profiles = new Map<string, Record<string, string>>();
  const fake = await startFake(WHATSAPP_VERSION_PATH, (req, queued) => {
    const auth = req.headers.authorization;
    if (auth !== `Bearer ${pageToken}` && auth !== `Bearer ${instagramToken}`) {
      return graphError(190, "Invalid OAuth access token - Cannot parse access token", {
        status: 401,
      });
    }
    if (req.method === "GET") {
      const id = req.path.slice(WHATSAPP_VERSION_PATH.length + 1);
      const profile = profiles.get(decodeURIComponent(id));
      if (!profile) return queued() ?? graphError(100, "Unsupported get request.");
      const fields = (req.query.fields ?? "").split(",");
      return queued() ?? {
        status: 200,
        body: {
          id,
          ...Object.fromEntries(Object.entries(profile).filter(([k]) => fields.includes(k))),
        },
      };
    }
    if (req.method !== "POST" || req.path !== `${WHATSAPP_VERSION_PATH}/me/messages`) {
      return graphError(100, "Unsupported post request.", { type: "GraphMethodException" });
    }
    const body = req.json as { recipient?: { id?: string }; sender_action?: string } | undefined;
    if (!body?.recipient?.id) return graphError(100, "(#100) The parameter recipient is required");
    return queued() ?? {
      status: 200,
      body: body.sender_action
        ? { recipient_id: body.recipient.id }
        : { recipient_id: body.recipient.id, message_id: `m_${nextId()}` },
    };
  });
  return { ...fake, pageToken, instagramToken, profiles };
}

// ---------------------------------------------------------------- Resend (email)

/** Resend's error body. */
export function resendError(name: string, message: string, status = 422): FakeReply {
  return { status, body: { statusCode: status, name, message } };
}

export interface FakeResend extends FakeServer {
  apiKey: string;
  /** Received emails served by `GET /emails/receiving/{id}`, by id. */
  inbox: Map<string, Record<string, unknown>>;
  /** Calls to `POST /emails` and `POST /emails/batch`. */
  sendRequests(): RecordedRequest[];
  /** Every email accepted so far, single or batched, as sent (with its id). */
  sentEmails(): { id: string; email: Record<string, unknown> }[];
}

/**
 * Resend's API: `POST /emails` → `{id}`, `POST /emails/batch` (≤ 100, permissive mode answers
 * `{data, errors}`), `GET /emails/receiving/{id}`, Bearer key. A repeated Idempotency-Key with
 * the same payload answers the first answer again, as Resend does for 24 hours.
 */
export async function startFakeResend(opts: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = opts.apiKey ?? "re_test_key";
  const inbox = new Map<string, Record<string, unknown>>();
  const sent: { id: string; email: Record<string, unknown> }[] = [];
  const seen = new Map<string, FakeReply>();
  const accept = (email: Record<string, unknown>) => {
    const id = crypto.randomUUID();
    sent.push({ id, email });
    return id;
  };
  const fake = await startFake("", (req, queued) => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return resendError("invalid_api_key", "API key is invalid", 403);
    }
    if (req.method === "GET" && req.path.startsWith("/emails/receiving/")) {
      const email = inbox.get(decodeURIComponent(req.path.slice("/emails/receiving/".length)));
      return email
        ? { status: 200, body: { object: "email", ...email } }
        : resendError("not_found", "Email not found", 404);
    }
    if (req.method !== "POST" || (req.path !== "/emails" && req.path !== "/emails/batch")) {
      return resendError("not_found", "The requested endpoint does not exist.", 404);
    }
    const key = req.headers["idempotency-key"];
    const remembered = key ? seen.get(`${req.path}:${key}`) : undefined;
    if (remembered) return remembered;
    const reply = queued() ?? answer(req);
    if (key && reply.status < 300) seen.set(`${req.path}:${key}`, reply);
    return reply;
  });

  function answer(req: RecordedRequest): FakeReply {
    if (req.path === "/emails") {
      const email = req.json as Record<string, unknown> | undefined;
      if (!email?.from || !email.to || !email.subject) {
        return resendError("missing_required_field", "Missing `to`, `from` or `subject` field.");
      }
      return { status: 200, body: { id: accept(email) } };
    }
    const emails = req.json as Record<string, unknown>[] | undefined;
    if (!Array.isArray(emails) || emails.length === 0 || emails.length > 100) {
      return resendError("validation_error", "The batch must hold 1 to 100 emails.");
    }
    if (emails.some((e) => "attachments" in e)) {
      return resendError("validation_error", "Attachments are not supported in batch emails.");
    }
    const data: { id: string }[] = [];
    const errors: { index: number; message: string }[] = [];
    emails.forEach((e, index) => {
      if (!e.from || !e.to || !e.subject) errors.push({ index, message: "Missing `to` field." });
      else data.push({ id: accept(e) });
    });
    return { status: 200, body: { data, errors } };
  }

  return {
    ...fake,
    apiKey,
    inbox,
    sendRequests: () => fake.requests.filter((r) => r.method === "POST"),
    sentEmails: () => sent,
    reset: () => {
      fake.reset();
      sent.length = 0;
      seen.clear();
      inbox.clear();
    },
  };
}
