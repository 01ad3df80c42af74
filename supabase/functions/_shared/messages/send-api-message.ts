import { rpc } from "../db/rpc.ts";
import { isKeyReused } from "../db/errors.ts";
import type { Json } from "../db/database.types.ts";
import { HttpError } from "../http/errors.ts";
import { toE164 } from "../phone.ts";
import { type OutboundDeps, sendPaced } from "../outbound/send.ts";
import type { OutboxRow } from "../outbound/senders.ts";
import { type Channel, type Content, planRoute, type Recipient, type Template } from "./route.ts";
import type { SendBody } from "./schemas.ts";
import type { MediaStore } from "../media/storage.ts";
import { type OutboundMedia, stageOutboundMedia } from "../media/outbound.ts";
import { downloadCapped } from "../media/download.ts";
import { WHATSAPP_MEDIA } from "../media/limits.ts";

export interface MessagesDeps extends OutboundDeps {
  /** The stored templates of one name and locale, every channel (public.message_templates). */
  templates(name: string, locale: string): Promise<Template[]>;
  defaultCountry: string;
  /** Sends after the 202 (EdgeRuntime.waitUntil); dispatch sends what it never did. */
  waitUntil(work: Promise<unknown>): void;
  /** Where `media` files are fetched from and kept (`media-outbound`); null store: refused. */
  media: { store: MediaStore | null; fetch: typeof fetch; timeoutMs: number };
}

export interface Accepted {
  /** 202 for a new message; the first answer again (202) for a repeat. */
  body: Record<string, unknown>;
  isNew: boolean;
}

/**
 * `POST /messages`: answers a repeat of (caller, idempotency key) with the first answer (409 when
 * the body differs), plans the route for the person, accepts the message once (the first step
 * written to the outbox, leased to this request when it goes now, due at `send_at` otherwise)
 * and sends it after the answer, falling down the route on a permanent failure.
 */
export async function acceptMessage(
  deps: MessagesDeps,
  input: { caller: string; body: SendBody; correlationId: string },
): Promise<Accepted> {
  const { caller, body } = input;
  const hash = await requestHash(body);
  const [previous] = await rpc(deps.sql, "find_api_message", {
    p_caller: caller,
    p_idempotency_key: body.idempotency_key,
  });
  if (previous) return { body: repeat(previous, hash), isNew: false };

  const recipient = await recipientOf(deps, body.to);
  const content = await contentOf(deps, body, hash);
  const templates = content.kind === "template"
    ? await deps.templates(content.name, content.locale)
    : [];
  const { steps, skipped } = planRoute({
    recipient,
    channel: body.channel,
    content,
    hasSender: (c) => deps.senders.resolve(c) !== null,
    template: (c) => templates.find((t) => t.channel === c) ?? null,
    whatsappTextTemplate: deps.whatsappTemplate,
  });
  if (steps.length === 0) {
    const first = skipped[0];
    throw new HttpError(
      422,
      skipped.length === 1 ? first.code : "MESSAGE.NO_ROUTE",
      skipped.length === 1 ? first.reason : "No channel can carry this message to this person",
      { skipped },
    );
  }
  const scheduled = body.send_at !== undefined && Date.parse(body.send_at) > Date.now();
  const [row] = await rpc(deps.sql, "accept_api_message", {
    p_caller: caller,
    p_idempotency_key: body.idempotency_key,
    p_request_hash: hash,
    p_profile_id: recipient.profileId,
    p_route: steps as unknown as Json,
    p_response: {
      status: scheduled ? "scheduled" : "accepted",
      profile_id: recipient.profileId,
      route: steps.map((s) => s.channel),
      skipped,
      ...(scheduled ? { send_at: new Date(body.send_at!).toISOString() } : {}),
    } as unknown as Json,
    p_send_at: body.send_at,
    p_metadata: (body.metadata ?? {}) as Json,
    p_correlation_id: input.correlationId,
  }).catch((err) => {
    throw isKeyReused(err) ? keyReused() : err;
  });
  if (!row.is_new) return { body: repeat({ ...row, request_hash: hash }, hash), isNew: false };
  if (!scheduled && row.delivery_id && row.delivery_status === "queued") {
    const step = steps[row.delivery_step];
    deps.waitUntil(sendSteps(deps, row.message_id, {
      id: row.delivery_id,
      route_step: row.delivery_step,
      channel: step.channel,
      recipient: step.recipient,
      body: step.body,
      message_type: step.message_type,
      metadata: step.metadata,
      sender_key: null,
    }));
  }
  return { body: row.response as Record<string, unknown>, isNew: true };
}

function repeat(previous: { request_hash: string; response: Json }, hash: string) {
  if (previous.request_hash !== hash) throw keyReused();
  return previous.response as Record<string, unknown>;
}

export const keyReused = () =>
  new HttpError(
    409,
    "IDEMPOTENCY.KEY_REUSED",
    "This idempotency_key was used with a different request",
  );

type StepRow = OutboxRow & { route_step: number };

/**
 * Sends the leased step; on a permanent failure the database has written the next step (once),
 * which this claims and sends in turn. A step left for want of a pacing token, or claimed by
 * dispatch first, is dispatch's to send.
 */
async function sendSteps(deps: MessagesDeps, messageId: string, first: StepRow) {
  let row: StepRow | undefined = first;
  while (row) {
    const sender = deps.senders.resolve(row.channel, row.sender_key);
    if (!sender) return;
    const sent = await sendPaced(deps, { sender, row }, {});
    if (!sent || sent.outcome.status !== "failed") return;
    row = await claimNext(deps, messageId, row.route_step);
  }
}

async function claimNext(deps: MessagesDeps, messageId: string, after: number) {
  for (;;) {
    const [next] = await rpc(deps.sql, "claim_api_message_step", {
      p_message_id: messageId,
      p_after_step: after,
    });
    if (!next) return undefined;
    if (next.status === "queued") {
      return { ...next, metadata: next.metadata as Record<string, unknown> } as StepRow;
    }
    after = next.route_step ?? after + 1;
  }
}

/** The identity a request names, as public.resolve_profile takes it. */
function identityOf(to: SendBody["to"], defaultCountry: string) {
  if (to.phone !== undefined) {
    const phone = toE164(to.phone, defaultCountry);
    if (!phone) {
      throw new HttpError(400, "VALIDATION.INVALID_BODY", "to.phone: not a valid phone number", {
        field: "to.phone",
      });
    }
    return { kind: "phone", value: phone };
  }
  if (to.email !== undefined) return { kind: "email", value: to.email };
  if (to.psid !== undefined) return { kind: "messenger", value: to.psid };
  return { kind: "instagram", value: to.igsid! };
}

async function recipientOf(deps: MessagesDeps, to: SendBody["to"]): Promise<Recipient> {
  const identity = to.profile_id ? undefined : identityOf(to, deps.defaultCountry);
  const [p] = await rpc(deps.sql, "api_message_recipient", {
    p_profile_id: to.profile_id,
    p_kind: identity?.kind,
    p_value: identity?.value,
  });
  if (!p) throw new HttpError(404, "RECIPIENT.NOT_FOUND", "No such profile");
  const addresses: Recipient["addresses"] = {};
  if (p.phone_number) addresses.phone = p.phone_number;
  if (p.email) addresses.email = p.email;
  if (p.messenger_psid) addresses.messenger = p.messenger_psid;
  if (p.instagram_igsid) addresses.instagram = p.instagram_igsid;
  return {
    profileId: p.profile_id,
    addresses,
    hasWhatsapp: p.has_whatsapp,
    allowsWhatsapp: p.allows_whatsapp,
    allowsSms: p.allows_sms,
    lastActiveChannel: p.last_active_channel,
    whatsappWindowOpen: p.whatsapp_window_open,
  };
}

async function contentOf(deps: MessagesDeps, body: SendBody, hash: string): Promise<Content> {
  if (body.template) return { kind: "template", ...body.template };
  if (body.media) return { kind: "media", media: await mediaOf(deps, body.media, hash) };
  return { kind: "text", text: body.text! };
}

/**
 * The request's file, checked against what its type takes (MIME type, size) and linked for
 * 24 h from `media-outbound`: fetched from `url` (at most the type's cap) and kept under
 * `api/<request hash>/`, or found at `path` in the bucket. Refused with 422 (type, size, an
 * unreachable URL) or 404 (no such object) before anything is written.
 */
async function mediaOf(
  deps: MessagesDeps,
  m: NonNullable<SendBody["media"]>,
  hash: string,
): Promise<OutboundMedia> {
  const { store } = deps.media;
  if (!store) {
    throw new HttpError(503, "MEDIA.NOT_CONFIGURED", "Media storage is not configured");
  }
  let file: { bytes: Uint8Array; mime: string };
  if (m.path) {
    const found = await store.get("media-outbound", m.path);
    if (!found) {
      throw new HttpError(404, "MEDIA.NOT_FOUND", "No such file in media-outbound", {
        field: "media.path",
      });
    }
    file = found;
  } else {
    const got = await downloadCapped(deps.media.fetch, m.url!, {
      maxBytes: WHATSAPP_MEDIA[m.type].maxBytes,
      timeoutMs: deps.media.timeoutMs,
      what: m.type,
    });
    if (!got.ok) {
      const code = got.error.code === "MEDIA.TOO_LARGE" ? got.error.code : "MEDIA.UNREACHABLE";
      throw new HttpError(422, code, got.error.message, { field: "media.url" });
    }
    file = got.file;
  }
  const filename = m.filename ?? (m.path ?? new URL(m.url!).pathname).split("/").pop() ??
    undefined;
  const staged = await stageOutboundMedia(store, { ...file, filename: filename || undefined }, {
    prefix: `api/${hash.slice(0, 32)}`,
    type: m.type,
    caption: m.caption,
    existingPath: m.path,
  });
  if (!staged.ok) {
    throw new HttpError(422, staged.error.code, staged.error.message, { field: "media" });
  }
  return staged.media;
}

/** SHA-256 of the request with its keys sorted: the same request however its JSON was ordered. */
async function requestHash(body: SendBody): Promise<string> {
  const bytes = new TextEncoder().encode(canonical(body));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) =>
      a < b ? -1 : 1
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export type { Channel };
