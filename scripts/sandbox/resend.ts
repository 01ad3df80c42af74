import { bearerToken, headerSubset, json, parseJson, readText } from "./http.ts";
import type { ProviderEndpoint, SandboxContext } from "./provider.ts";

/**
 * Resend's API: `POST /emails` → `{id}`, `POST /emails/batch` (1–100 emails; `x-batch-validation:
 * permissive` answers `{data, errors}`), `GET /emails/receiving/{id}` for emails people sent in
 * (`inbox`), Bearer API key, errors as `{statusCode, name, message}`. An Idempotency-Key seen
 * before answers the first answer again, as Resend does for 24 hours.
 */

export interface ResendEndpoint extends ProviderEndpoint {
  /** Received emails, by id, as `GET /emails/receiving/{id}` answers them. */
  inbox: Map<string, Record<string, unknown>>;
}

const resendError = (status: number, name: string, message: string) =>
  json({ statusCode: status, name, message }, status);

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

type Email = {
  from?: unknown;
  to?: unknown;
  subject?: unknown;
  text?: unknown;
  html?: unknown;
  headers?: unknown;
  attachments?: unknown;
  tags?: unknown;
};

function problem(e: Email): string | null {
  const to = Array.isArray(e.to) ? e.to : [e.to];
  if (typeof e.from !== "string" || !e.subject) return "Missing `from` or `subject` field.";
  if (to.length === 0 || !to.every((t) => typeof t === "string" && ADDRESS.test(t))) {
    return "Invalid `to` field. The email address needs to follow the `email@example.com` format.";
  }
  if (typeof e.text !== "string" && typeof e.html !== "string") return "Missing `text` or `html`.";
  return null;
}

export function createResend(): ResendEndpoint {
  const inbox = new Map<string, Record<string, unknown>>();
  const answered = new Map<string, { status: number; body: unknown }>();

  function record(req: Request, e: Email, raw: string, ctx: SandboxContext): string {
    const id = crypto.randomUUID();
    const to = (Array.isArray(e.to) ? e.to : [e.to]) as string[];
    ctx.messages.record({
      id,
      provider: "resend",
      channel: "email",
      to: to.join(", "),
      from: String(e.from),
      body: typeof e.text === "string" ? e.text : String(e.html),
      email: {
        subject: String(e.subject),
        ...(typeof e.html === "string" ? { html: e.html } : {}),
        headers: (e.headers ?? {}) as Record<string, string>,
        attachments: Array.isArray(e.attachments)
          ? e.attachments.map((a) => String((a as { filename?: unknown }).filename))
          : [],
      },
      request_body: raw,
      headers: headerSubset(req),
      received_at: ctx.now().toISOString(),
    });
    return id;
  }

  async function send(req: Request, path: string, ctx: SandboxContext): Promise<Response> {
    if (bearerToken(req) !== ctx.credentials.resendApiKey) {
      return resendError(403, "invalid_api_key", "API key is invalid");
    }
    const key = req.headers.get("idempotency-key");
    const seen = key ? answered.get(`${path}:${key}`) : undefined;
    if (seen) return json(seen.body, seen.status);
    const raw = (await readText(req)) ?? "";
    const payload = parseJson(raw);
    let status = 200;
    let body: unknown;
    if (path === "/emails") {
      const why = problem((payload ?? {}) as Email);
      if (why) return resendError(422, "validation_error", why);
      body = { id: record(req, payload as Email, raw, ctx) };
    } else {
      if (!Array.isArray(payload) || payload.length === 0 || payload.length > 100) {
        return resendError(422, "validation_error", "A batch holds 1 to 100 emails.");
      }
      if (payload.some((e) => e && typeof e === "object" && "attachments" in e)) {
        return resendError(422, "validation_error", "Attachments are not supported in batch.");
      }
      const permissive = req.headers.get("x-batch-validation") === "permissive";
      const errors = payload.flatMap((e, index) => {
        const why = problem(e as Email);
        return why ? [{ index, message: why }] : [];
      });
      if (errors.length && !permissive) {
        return resendError(422, "validation_error", errors[0].message);
      }
      const data = payload.flatMap((e, i) =>
        errors.some((x) => x.index === i) ? [] : [{ id: record(req, e as Email, raw, ctx) }]
      );
      body = permissive ? { data, errors } : { data };
      status = 200;
    }
    if (key) answered.set(`${path}:${key}`, { status, body });
    return json(body, status);
  }

  return {
    name: "resend",
    inbox,
    handle(req, path, ctx) {
      if (req.method === "GET" && path.startsWith("/emails/receiving/")) {
        if (bearerToken(req) !== ctx.credentials.resendApiKey) {
          return Promise.resolve(resendError(403, "invalid_api_key", "API key is invalid"));
        }
        const email = inbox.get(decodeURIComponent(path.slice("/emails/receiving/".length)));
        return Promise.resolve(
          email
            ? json({ object: "email", ...email })
            : resendError(404, "not_found", "Email not found"),
        );
      }
      if (req.method === "POST" && (path === "/emails" || path === "/emails/batch")) {
        return send(req, path, ctx);
      }
      return Promise.resolve(
        resendError(404, "not_found", "The requested endpoint does not exist."),
      );
    },
    failure: (status) =>
      status === 429
        ? resendError(
          429,
          "rate_limit_exceeded",
          "Too many requests. Please limit the number of requests per second.",
        )
        : resendError(status, "application_error", "Something went wrong while saving the email"),
  };
}
