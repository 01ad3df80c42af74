import { z } from "zod";
import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { FaultBook, FaultSchema } from "./faults.ts";
import { refuseForeign, refuseNonJson } from "./guard.ts";
import { json } from "./http.ts";
import { deliverInbound, InboundRefused, InboundSchema } from "./inbound.ts";
import { fileOf, FileSpec, type MediaFiles, mediaFiles } from "./media.ts";
import { MessageStore, type MessageStoreLimits } from "./messages.ts";
import { mtn } from "./mtn.ts";
import { agentDisconnect, agentMessage, genesys, genesysState } from "./genesys.ts";
import { genesysSignature } from "./signing.ts";
import { openai } from "./openai.ts";
import type { ProviderEndpoint, SandboxContext, SandboxCredentials } from "./provider.ts";
import { type StatusCallbackOption, StatusCallbacks } from "./status-callbacks.ts";
import { twilio } from "./twilio.ts";
import type { WebhookTarget } from "./webhook.ts";
import { whatsapp } from "./whatsapp.ts";
import { meta } from "./meta.ts";
import { createResend } from "./resend.ts";

export type { SandboxMessage } from "./messages.ts";
export type { SandboxCredentials } from "./provider.ts";

export interface SandboxOptions {
  credentials?: Partial<SandboxCredentials>;
  now?: () => Date;
  /** How a slow fault waits (`delay_ms`); tests record it instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where the stack's functions are reached (`http://127.0.0.1:54321/functions/v1`): inbound
   * messages and status callbacks go there. Without it the sandbox only answers.
   */
  functionsUrl?: string;
  /** PUBLIC_FUNCTIONS_URL, which Twilio signs; default `functionsUrl`. */
  publicFunctionsUrl?: string;
  /** The gateway an inbound SMS arrives through when the request names none (SMS_PROVIDER). */
  smsProvider?: "mtn" | "twilio";
  /** Status callbacks after each accepted message: on (200 ms apart) unless `false`. */
  statusCallbacks?: StatusCallbackOption;
  /** Where failed callbacks are reported; default console.warn. */
  log?: (line: string) => void;
  /** How much it remembers: the last `maxMessages` messages within `maxBytes` (see messages.ts). */
  limits?: Partial<MessageStoreLimits>;
}

export interface Sandbox {
  /** A plain fetch handler: Deno.serve it, or serve it from Node tests (tests/support/serve.ts). */
  handler: (req: Request) => Promise<Response>;
  messages: MessageStore;
  faults: FaultBook;
  callbacks: StatusCallbacks;
  /** What Genesys saw: its OAuth token requests, the tokens it issued (clear them to revoke). */
  genesys: { tokenRequests: number; tokens: Map<string, number> };
  /** The files people send on WhatsApp and agents attach in Genesys (sandbox/media.ts). */
  media: MediaFiles;
  /** Cancels pending status callbacks and waits for those in flight. */
  close(): Promise<void>;
}

const STATELESS: ProviderEndpoint[] = [whatsapp, mtn, twilio, meta, openai, genesys];

const AgentReplySchema = z.object({
  to: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be E.164"),
  text: z.string().min(1).max(4096).optional(),
  /** A file the agent attaches (sandbox/media.ts FileSpec). */
  attachment: FileSpec.optional(),
  // Both absent only on agent-end.
});

const MEDIA_TYPE_OF = (mime: string) =>
  mime.startsWith("image/")
    ? "Image" as const
    : mime.startsWith("video/")
    ? "Video" as const
    : mime.startsWith("audio/")
    ? "Audio" as const
    : "File" as const;

const SettingsSchema = z.object({
  status_callbacks: z.union([
    z.boolean(),
    z.object({ delay_ms: z.number().int().min(0).max(60_000) }).transform((o) => ({
      delayMs: o.delay_ms,
    })),
  ]),
});

const settingsBody = (callbacks: StatusCallbacks) => {
  const { enabled, delayMs } = callbacks.settings;
  return { status_callbacks: enabled ? { delay_ms: delayMs } : false };
};

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The provider sandbox: speaks each provider's wire format under `/<provider>/…`, records every
 * message it accepts, and has a control API under `/__sandbox/`:
 * - `GET /__sandbox/messages[?provider=&channel=&to=]`, `DELETE /__sandbox/messages`
 * - `POST /__sandbox/faults` {provider, mode, status?, body?, delay_ms?, count?},
 *   `GET /__sandbox/faults`, `DELETE /__sandbox/faults`
 * - `POST /__sandbox/inbound` {channel, from, text, provider?, name?, subject?, payload?,
 *   postback?}: a person writes (on Messenger/Instagram `from` is their PSID/IGSID, by email their
 *   address); the provider's signed webhook is posted to the functions (needs `functionsUrl`)
 * - `GET` / `POST /__sandbox/settings` {status_callbacks: false | true | {delay_ms}}
 * - `POST /__sandbox/agent-reply` {to, text?, attachment?}: a Genesys agent answers the person
 *   at `to`, with a file if given (a fixture or base64, served at `/genesys/api/v2/downloads/{id}`
 *   to the OAuth token); the Open Messaging outbound webhook is posted to genesys-webhook, signed
 *   as Genesys signs
 * - `POST /__sandbox/inbound` with `media` {fixture | base64+mime, filename?, type?} on
 *   WhatsApp: the person sends a file, fetched back by `GET /whatsapp/{version}/{media-id}`
 * - `POST /__sandbox/agent-end` {to}: the agent ends the conversation (a Presence Disconnect
 *   event to genesys-webhook): the AI answers the person again
 * - `GET /__sandbox/genesys`: how many OAuth token requests Genesys has answered
 */
export function createSandbox(opts: SandboxOptions = {}): Sandbox {
  // Resend keeps the emails people sent in, for `GET /emails/receiving/{id}`.
  const resend = createResend();
  const PROVIDERS = [...STATELESS, resend];
  const messages = new MessageStore(opts.limits);
  const faults = new FaultBook();
  const sleep = opts.sleep ?? realSleep;
  const ctx: SandboxContext = {
    messages,
    credentials: { ...SANDBOX_CREDENTIALS, ...opts.credentials },
    now: opts.now ?? (() => new Date()),
  };
  const target: WebhookTarget | undefined = opts.functionsUrl
    ? {
      functionsUrl: opts.functionsUrl,
      publicFunctionsUrl: opts.publicFunctionsUrl ?? opts.functionsUrl,
      credentials: ctx.credentials,
    }
    : undefined;
  const callbacks = new StatusCallbacks(
    { target, now: ctx.now, log: opts.log ?? ((line) => console.warn(line)) },
    opts.statusCallbacks,
  );
  messages.onRecord((m) => callbacks.schedule(m));

  async function inbound(req: Request): Promise<Response> {
    const parsed = InboundSchema.safeParse(await req.json().catch(() => undefined));
    if (!parsed.success) return json({ error: parsed.error.issues }, 400);
    if (!target) {
      return json({
        error: "this sandbox was started without the functions URL (createSandbox({functionsUrl}))",
      }, 409);
    }
    try {
      return json(
        await deliverInbound(parsed.data, {
          target,
          smsProvider: opts.smsProvider ?? "mtn",
          messages,
          emailInbox: resend.inbox,
          media: mediaFiles(ctx),
          now: ctx.now,
        }),
      );
    } catch (err) {
      if (err instanceof InboundRefused) return json({ error: err.message }, 400);
      return json({
        error: `could not reach ${target.functionsUrl}: ${
          err instanceof Error ? err.message : err
        }`,
      }, 502);
    }
  }

  async function agentReply(req: Request, end = false): Promise<Response> {
    const parsed = AgentReplySchema.safeParse(await req.json().catch(() => undefined));
    if (!parsed.success) return json({ error: parsed.error.issues }, 400);
    if (!end && parsed.data.text === undefined && parsed.data.attachment === undefined) {
      return json({ error: [{ path: ["text"], message: "text or attachment is required" }] }, 400);
    }
    if (!target) return json({ error: "this sandbox was started without the functions URL" }, 409);
    const spec = parsed.data.attachment;
    const file = spec ? fileOf(spec) : null;
    if (spec && !file) {
      return json({ error: "attachment: a known fixture, or base64 with mime" }, 400);
    }
    const held = file
      ? await mediaFiles(ctx).add(file.bytes, file.mime, spec?.filename ?? spec?.fixture)
      : null;
    const { id, body } = end ? agentDisconnect(ctx, parsed.data.to) : agentMessage(
      ctx,
      parsed.data.to,
      parsed.data.text ?? "",
      held
        ? [{
          url: `${new URL(req.url).origin}/genesys/api/v2/downloads/${held.id}`,
          mime: held.mime,
          filename: held.filename,
          mediaType: MEDIA_TYPE_OF(held.mime),
        }]
        : [],
    );
    try {
      const res = await fetch(`${target.functionsUrl.replace(/\/+$/, "")}/genesys-webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": await genesysSignature(ctx.credentials.genesysWebhookSecret, body),
        },
        body,
      });
      return json({ genesys_message_id: id, status: res.status, answer: await res.text() });
    } catch (err) {
      return json({
        error: `could not reach genesys-webhook: ${err instanceof Error ? err.message : err}`,
      }, 502);
    }
  }

  async function control(req: Request, url: URL): Promise<Response> {
    const route = `${req.method} ${url.pathname}`;
    if (req.method === "POST") {
      const refused = refuseNonJson(req);
      if (refused) return refused;
    }
    switch (route) {
      case "GET /__sandbox/messages":
        return json(messages.list({
          provider: url.searchParams.get("provider") ?? undefined,
          channel: url.searchParams.get("channel") ?? undefined,
          to: url.searchParams.get("to") ?? undefined,
        }));
      case "DELETE /__sandbox/messages":
        return json({ deleted: messages.clear() });
      case "GET /__sandbox/faults":
        return json(faults.list());
      case "DELETE /__sandbox/faults":
        faults.clear();
        return json({ cleared: true });
      case "POST /__sandbox/faults": {
        const parsed = FaultSchema.safeParse(await req.json().catch(() => undefined));
        if (!parsed.success) return json({ error: parsed.error.issues }, 400);
        if (!PROVIDERS.some((p) => p.name === parsed.data.provider)) {
          return json({ error: `unknown provider; one of ${PROVIDERS.map((p) => p.name)}` }, 400);
        }
        faults.set(parsed.data);
        return json({ faults: faults.list() }, 201);
      }
      case "POST /__sandbox/inbound":
        return await inbound(req);
      case "POST /__sandbox/agent-end":
        return await agentReply(req, true);
      case "POST /__sandbox/agent-reply":
        return await agentReply(req);
      case "GET /__sandbox/genesys":
        return json({ token_requests: genesysState(ctx).tokenRequests });
      case "GET /__sandbox/settings":
        return json(settingsBody(callbacks));
      case "POST /__sandbox/settings": {
        const parsed = SettingsSchema.safeParse(await req.json().catch(() => undefined));
        if (!parsed.success) return json({ error: parsed.error.issues }, 400);
        callbacks.configure(parsed.data.status_callbacks);
        return json(settingsBody(callbacks));
      }
    }
    return json({ error: "not found" }, 404);
  }

  /**
   * A "fail" fault answers with the error (after `delay_ms`). A "slow" one is what makes real
   * sends ambiguous: the provider accepts the message at once (recorded, status callbacks on
   * their way) and only its answer comes late, after a client's timeout.
   */
  async function provider(req: Request, p: ProviderEndpoint, path: string): Promise<Response> {
    const fault = faults.take(p.name);
    if (fault?.mode === "fail") {
      if (fault.delay_ms) await sleep(fault.delay_ms);
      const status = fault.status ?? 500;
      return fault.body === undefined ? p.failure(status) : json(fault.body, status);
    }
    const res = await p.handle(req, path, ctx);
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    return res;
  }

  const handler = async (req: Request): Promise<Response> => {
    const refused = refuseForeign(req);
    if (refused) return refused;
    const url = new URL(req.url);
    if (url.pathname.startsWith("/__sandbox/")) return await control(req, url);
    const [, name] = url.pathname.match(/^\/([^/]+)/) ?? [];
    const p = PROVIDERS.find((p) => p.name === name);
    if (p) return await provider(req, p, url.pathname.slice(name.length + 1));
    if (url.pathname === "/") {
      return json({
        sandbox: "local provider sandbox",
        providers: PROVIDERS.map((p) => `/${p.name}/`),
        messages: "/__sandbox/messages",
        faults: "/__sandbox/faults",
        inbound: "/__sandbox/inbound",
        settings: "/__sandbox/settings",
      });
    }
    return json({ error: "not found" }, 404);
  };

  return {
    handler,
    messages,
    faults,
    callbacks,
    genesys: genesysState(ctx),
    media: mediaFiles(ctx),
    close: () => callbacks.close(),
  };
}
