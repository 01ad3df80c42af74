import { z } from "zod";
import {
  assertBaseUrl,
  classOfStatus,
  DEFAULT_TIMEOUT_MS,
  exchange,
  httpFailure,
  joinUrl,
  missingFields,
  notConfigured,
  type ProviderReply,
  safeMessage,
  unreadableSuccess,
  withRetryAfter,
} from "./http.ts";
import type { AdapterOptions, ChannelFailure, SendResult } from "../outbound/adapter.ts";
import {
  BUTTON_TEXT_LIMIT,
  BUTTON_TITLE_LIMIT,
  BUTTONS_LIMIT,
  GENERIC_ELEMENTS_LIMIT,
  GENERIC_TITLE_LIMIT,
  META_TEXT_LIMIT,
  type MetaChannel,
  QUICK_REPLY_LIMIT,
  shortTitle,
  splitText,
  truncateClean,
} from "../notifications/meta-format.ts";

/**
 * Messenger and Instagram through Meta's Send API: `POST {base}/me/messages` with the page's
 * (or Instagram account's) access token, and the profile API `GET {base}/{id}?fields=…`.
 */

export interface MetaConfig {
  channel: MetaChannel;
  baseUrl: string;
  accessToken?: string;
}

/** Inside 24 h of the person's last message: RESPONSE; up to 7 days: the HUMAN_AGENT tag. */
export type MessagingType = { type: "RESPONSE" } | { type: "MESSAGE_TAG"; tag: "HUMAN_AGENT" };

export type QuickReply =
  | { type: "text"; title: string; payload: string }
  | { type: "user_phone_number" }
  | { type: "user_email" };

export type Button =
  | { type: "postback"; title: string; payload: string }
  | { type: "web_url"; title: string; url: string };

/** One message as this project sends it on Messenger/Instagram. */
export type MetaMessage =
  | { kind: "text"; text: string; quickReplies?: QuickReply[] }
  | { kind: "attachment"; type: "image" | "audio" | "video" | "file"; url: string }
  | { kind: "button_template"; text: string; buttons: Button[] }
  | {
    kind: "generic_template";
    elements: { title: string; subtitle?: string; imageUrl?: string; buttons?: Button[] }[];
  };

export interface SendOptions {
  /**
   * Our row's id, sent as Messenger's `message.metadata`: the echo of the message carries it
   * back, so the webhook knows the echo is ours and records nothing new. (Instagram has no such
   * field; its echoes are matched by message id.)
   */
  deliveryId?: string;
}

export type SenderAction = "mark_seen" | "typing_on" | "typing_off";

export interface MetaProfile {
  /** Messenger: first and last name; Instagram: name. */
  name?: string;
  username?: string;
  profilePic?: string;
}

export interface MetaAdapter {
  readonly channel: MetaChannel;
  /** A long text goes as up to three messages, cut at words; the id is the first one's. */
  send(
    to: string,
    message: MetaMessage,
    messaging: MessagingType,
    options?: SendOptions,
  ): Promise<SendResult>;
  senderAction(to: string, action: SenderAction): Promise<SendResult>;
  /** The person's public profile, or null when Meta would not say (never throws). */
  profile(id: string): Promise<MetaProfile | null>;
}

const SuccessBody = z.object({
  recipient_id: z.string().optional(),
  message_id: z.string().min(1),
});
const ActionBody = z.object({ recipient_id: z.string() });

const ErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

const ProfileBody = z.object({
  name: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  profile_pic: z.string().optional(),
});

/** Graph API throttling: 4 app, 32 page, 613 calls within the window; 1/2 transient. */
const THROTTLED = new Set([4, 32, 613, 80006]);
const TRANSIENT = new Set([1, 2]);
/** "This message is sent outside of allowed window" (code 10 / subcode 2018278, or as code). */
const WINDOW = 2018278;
/** "This person isn't available right now": blocked the page, deactivated, or never reachable. */
const UNAVAILABLE = new Set([551, 2018001, 1545041]);

/**
 * The class of a Graph error: the messaging window (2018278) before anything else, throttling
 * (4/32/613, or words saying "too many") retryable and slowed down, 551 "user unavailable"
 * permanent and not on this channel, permissions (10, 200–299) and an expired token (190)
 * permanent; anything else by its HTTP status.
 */
export function classifyGraphError(
  status: number,
  error: { code: number; error_subcode?: number; message: string },
): Pick<ChannelFailure, "class" | "throttled" | "notOnChannel"> {
  if (error.code === WINDOW || error.error_subcode === WINDOW) return { class: "window_closed" };
  if (THROTTLED.has(error.code) || /too many/i.test(error.message)) {
    return { class: "retryable", throttled: true };
  }
  if (UNAVAILABLE.has(error.code) || UNAVAILABLE.has(error.error_subcode ?? -1)) {
    return { class: "permanent", notOnChannel: true };
  }
  if (error.code === 10 || error.code === 190 || (error.code >= 200 && error.code < 300)) {
    return { class: "permanent" };
  }
  if (TRANSIENT.has(error.code)) return { class: "retryable" };
  return { class: classOfStatus(status) };
}

export function createMetaAdapter(config: MetaConfig, opts: AdapterOptions = {}): MetaAdapter {
  assertBaseUrl("META_GRAPH_BASE_URL", config.baseUrl);
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const provider = config.channel;
  const failed = (error: ChannelFailure): SendResult => ({ ok: false, provider, error });
  const limit = META_TEXT_LIMIT[config.channel];

  async function post(body: Record<string, unknown>): Promise<SendResult> {
    const missing = missingFields({ accessToken: config.accessToken });
    if (missing.length) return failed(notConfigured(missing));
    const result = await exchange(fetchFn, joinUrl(config.baseUrl, "me/messages"), {
      method: "POST",
      headers: {
        authorization: `Bearer ${config.accessToken}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    }, timeoutMs);
    if (!result.ok) return failed(result.failure);
    return read(result.reply, "sender_action" in body);
  }

  function read(reply: ProviderReply, action: boolean): SendResult {
    if (reply.status >= 200 && reply.status < 300) {
      if (action) {
        const ok = ActionBody.safeParse(reply.json);
        return ok.success
          ? { ok: true, provider, providerMessageId: "" }
          : failed(unreadableSuccess(reply));
      }
      const ok = SuccessBody.safeParse(reply.json);
      if (!ok.success) return failed(unreadableSuccess(reply));
      return { ok: true, provider, providerMessageId: ok.data.message_id };
    }
    const err = ErrorBody.safeParse(reply.json);
    if (!err.success) return failed(httpFailure(reply));
    const e = err.data.error;
    const cls = classifyGraphError(reply.status, e);
    return failed(withRetryAfter(reply, {
      ...cls,
      code: e.error_subcode === WINDOW ? String(WINDOW) : String(e.code),
      message: safeMessage(e.message),
      httpStatus: reply.status,
    }));
  }

  const recipient = (to: string) => ({ recipient: { id: to } });
  const messagingFields = (m: MessagingType) =>
    m.type === "RESPONSE"
      ? { messaging_type: "RESPONSE" }
      : { messaging_type: "MESSAGE_TAG", tag: m.tag };

  return {
    channel: config.channel,
    async send(to, message, messaging, options = {}) {
      if (!to.trim()) {
        return failed({
          class: "permanent",
          code: "INVALID_RECIPIENT",
          message: `The recipient is not a ${config.channel} id`,
        });
      }
      const bodies = messageBodies(config.channel, message, limit);
      let first: SendResult | undefined;
      for (const [i, msg] of bodies.entries()) {
        const tagged = options.deliveryId && config.channel === "messenger"
          ? { ...msg, metadata: options.deliveryId }
          : msg;
        const r = await post({ ...recipient(to), ...messagingFields(messaging), message: tagged });
        if (!r.ok) {
          // A later part failing must not make dispatch send the first parts again.
          return i === 0 ? r : failed({
            ...r.error,
            class: "permanent",
            message: safeMessage(
              `Only ${i} of ${bodies.length} parts were sent: ${r.error.message}`,
            ),
          });
        }
        first ??= r;
      }
      return first!;
    },
    senderAction: (to, action) => post({ ...recipient(to), sender_action: action }),
    async profile(id) {
      if (!config.accessToken || !id.trim()) return null;
      const fields = config.channel === "instagram"
        ? "name,username,profile_pic"
        : "first_name,last_name,profile_pic";
      const url = joinUrl(config.baseUrl, encodeURIComponent(id));
      url.searchParams.set("fields", fields);
      const result = await exchange(fetchFn, url, {
        method: "GET",
        headers: { authorization: `Bearer ${config.accessToken}` },
      }, timeoutMs);
      if (!result.ok || result.reply.status !== 200) return null;
      const p = ProfileBody.safeParse(result.reply.json);
      if (!p.success) return null;
      const name = p.data.name ??
        ([p.data.first_name, p.data.last_name].filter(Boolean).join(" ") || undefined);
      return {
        ...(name ? { name } : {}),
        ...(p.data.username ? { username: p.data.username } : {}),
        ...(p.data.profile_pic ? { profilePic: p.data.profile_pic } : {}),
      };
    },
  };
}

/** The Send API `message` objects for one of our messages (several for a long text). */
export function messageBodies(
  channel: MetaChannel,
  message: MetaMessage,
  limit = META_TEXT_LIMIT[channel],
): Record<string, unknown>[] {
  switch (message.kind) {
    case "text": {
      const parts = splitText(message.text, limit);
      const quick = quickReplies(message.quickReplies);
      // Quick replies belong to the last message: they are what the person answers.
      return parts.map((text, i) => ({
        text,
        ...(quick && i === parts.length - 1 ? { quick_replies: quick } : {}),
      }));
    }
    case "attachment":
      return [{
        attachment: { type: message.type, payload: { url: message.url, is_reusable: true } },
      }];
    case "button_template":
      return [{
        attachment: {
          type: "template",
          payload: {
            template_type: "button",
            text: truncateClean(message.text, BUTTON_TEXT_LIMIT),
            buttons: buttons(message.buttons),
          },
        },
      }];
    case "generic_template":
      return [{
        attachment: {
          type: "template",
          payload: {
            template_type: "generic",
            elements: message.elements.slice(0, GENERIC_ELEMENTS_LIMIT).map((e) => ({
              title: truncateClean(e.title, GENERIC_TITLE_LIMIT),
              ...(e.subtitle ? { subtitle: truncateClean(e.subtitle, GENERIC_TITLE_LIMIT) } : {}),
              ...(e.imageUrl ? { image_url: e.imageUrl } : {}),
              ...(e.buttons?.length ? { buttons: buttons(e.buttons) } : {}),
            })),
          },
        },
      }];
  }
}

function quickReplies(list: QuickReply[] | undefined) {
  if (!list?.length) return undefined;
  return list.slice(0, QUICK_REPLY_LIMIT).map((q) =>
    q.type === "text"
      ? { content_type: "text", title: shortTitle(q.title), payload: q.payload.slice(0, 1000) }
      : { content_type: q.type }
  );
}

function buttons(list: Button[]) {
  return list.slice(0, BUTTONS_LIMIT).map((b) =>
    b.type === "postback"
      ? { type: "postback", title: shortTitle(b.title, BUTTON_TITLE_LIMIT), payload: b.payload }
      : { type: "web_url", title: shortTitle(b.title, BUTTON_TITLE_LIMIT), url: b.url }
  );
}
