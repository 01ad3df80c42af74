import type { FakeTwilio } from "../support/fake-providers.ts";
import { NO_PACING, sendersFor, startTestEnv, type TestEnv } from "../support/env.ts";
import type { Sql } from "../../supabase/functions/_shared/db/client.ts";
import {
  createSmsInboundHandler,
  type SmsInboundDeps,
} from "../../supabase/functions/_shared/sms-inbound/handler.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { sendMessage } from "../../supabase/functions/_shared/outbound/send-message.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";
import type { InboundForReply } from "../../supabase/functions/_shared/conversations/reply-to-inbound.ts";
import { drainInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";
import { MTN_SECRET, mtnSignature, TWILIO_TOKEN, twilioSignature } from "./signing.ts";

/**
 * What the sms-inbound tests share: a migrated database, local MTN-style and Twilio servers
 * speaking their real wire formats, the handler built on them, and request builders that sign
 * the way the providers do — with node:crypto, independently of the code under test.
 */

export { MTN_SECRET, TWILIO_TOKEN };
/** What Twilio is configured with; the handler itself is reached on another host. */
export const PUBLIC_FUNCTIONS_URL = "https://abcdefghijkl.supabase.co/functions/v1";
const RUNTIME_URL = "http://127.0.0.1:9000";

export type Env = TestEnv & { twilio: FakeTwilio };

export async function startEnv(): Promise<Env> {
  const env = await startTestEnv({ twilio: { authToken: TWILIO_TOKEN } });
  return { ...env, twilio: env.twilio! };
}

/**
 * The handler on the test database, recording every AI-reply hand-off instead of running one.
 * Accepted messages are derived by the real inbox worker (drainInbox) in the background, as the
 * agent-worker function does, and their hand-offs recorded the same way.
 */
export function makeHandler(env: Env, over: Partial<SmsInboundDeps> = {}) {
  const log = memoryLogger();
  const background = backgroundTracker((err) =>
    log.error("BACKGROUND_ERROR", { error: String(err) })
  );
  const replies: InboundForReply[] = [];
  const handler = createSmsInboundHandler({
    sql: env.db.sql,
    logger: log,
    senders: sendersFor(env),
    pacer: NO_PACING,
    defaultCountry: "RW",
    waitUntil: background.waitUntil,
    onInbound: (r) => {
      replies.push(r);
      return Promise.resolve();
    },
    onAccepted: async () => {
      await drainInbox({
        sql: env.db.sql,
        logger: log,
        onInbound: (r) => {
          replies.push(r);
          return Promise.resolve();
        },
      });
    },
    webhook: {
      mtnSecret: MTN_SECRET,
      twilioAuthToken: TWILIO_TOKEN,
      publicFunctionsUrl: PUBLIC_FUNCTIONS_URL,
    },
    ...over,
  });
  /** Answers the request, then waits for the work it left in the background. */
  const send = async (req: Request) => {
    const res = await handler(req);
    await background.settled();
    return res;
  };
  return { handler, send, settled: background.settled, replies, log };
}

/** sendMessage as the AI replier and the tools call it, on the given SMS adapter. */
export function sendSms(env: Env, provider: "mtn" | "twilio", to: string, body: string) {
  return sendMessage(
    {
      sql: env.db.sql,
      senders: sendersFor(env, { vars: { SMS_PROVIDER: provider } }),
      pacer: NO_PACING,
      logger: memoryLogger(),
    },
    { channel: "sms", to, body, purpose: "ai_reply", correlationId: `corr-${to}` },
  );
}

export interface MtnRequestOptions {
  /** After /sms-inbound: "", "/mtn", "/status", … Default "/mtn". */
  path?: string;
  /** Overrides the computed signature; null sends none. */
  signature?: string | null;
  headers?: Record<string, string>;
}

export function mtnRequest(body: unknown, opts: MtnRequestOptions = {}): Request {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const signature = opts.signature === undefined ? mtnSignature(raw) : opts.signature;
  return new Request(`${RUNTIME_URL}/sms-inbound${opts.path ?? "/mtn"}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === null ? {} : { "x-mtn-signature": signature }),
      ...opts.headers,
    },
    body: raw as BodyInit,
  });
}

export interface TwilioRequestOptions {
  /** After /sms-inbound. Default "/twilio". */
  path?: string;
  /** Query string, with its "?". */
  query?: string;
  /** The URL the signature is computed over; default the public URL of the request. */
  signedUrl?: string;
  signature?: string | null;
  token?: string;
}

export function twilioRequest(
  params: Record<string, string> | Array<[string, string]>,
  opts: TwilioRequestOptions = {},
): Request {
  const body = new URLSearchParams(Array.isArray(params) ? params : Object.entries(params))
    .toString();
  const path = `/sms-inbound${opts.path ?? "/twilio"}${opts.query ?? ""}`;
  const signedUrl = opts.signedUrl ?? `${PUBLIC_FUNCTIONS_URL}${path}`;
  // Twilio signs the values it sends: what survives form encoding (a lone surrogate does not).
  const signature = opts.signature === undefined
    ? twilioSignature(signedUrl, [...new URLSearchParams(body)], opts.token)
    : opts.signature;
  return new Request(`${RUNTIME_URL}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature === null ? {} : { "x-twilio-signature": signature }),
    },
    body,
  });
}

/** An incoming SMS as Twilio posts it. */
export function twilioInbound(
  from: string,
  body: string,
  sid: string,
  extra: Record<string, string> = {},
) {
  return {
    ToCountry: "US",
    SmsMessageSid: sid,
    NumMedia: "0",
    SmsSid: sid,
    SmsStatus: "received",
    Body: body,
    To: "+15005550006",
    NumSegments: "1",
    MessageSid: sid,
    AccountSid: "AC00000000000000000000000000000001",
    From: from,
    ApiVersion: "2010-04-01",
    ...extra,
  };
}

let sequence = 0;
/** A fresh Rwandan mobile number per call: the database is shared by a test file. */
export function newPhone(): string {
  return `+25078${
    String(3_000_000 + ++sequence * 7919 + Math.floor(Math.random() * 1000)).padStart(7, "0")
  }`;
}

export function newTwilioSid(prefix = "SM"): string {
  return prefix + crypto.randomUUID().replaceAll("-", "");
}

export function inboundRows(sql: Sql, sender: string) {
  return sql`
    select id, provider, provider_message_id, body, message_type, status, reply_state, metadata
    from public.message_delivery_log
    where direction = 'inbound' and sender = ${sender} order by created_at`;
}

export function outboundRows(sql: Sql, recipient: string) {
  return sql`
    select id, provider, provider_message_id, body, status, purpose, error_code, error_class
    from public.message_delivery_log
    where direction = 'outbound' and recipient = ${recipient} order by created_at`;
}

export async function profileOf(sql: Sql, phone: string) {
  const [p] =
    await sql`select allows_sms, last_active_channel from public.profiles where phone_number = ${phone}`;
  return p;
}
