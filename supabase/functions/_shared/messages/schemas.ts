import { z } from "zod";
import { CHANNELS } from "./route.ts";

const Channel = z.enum(CHANNELS);

/** Who the message is for: a profile, or one of their addresses (a new person is created for a phone). */
export const To = z.object({
  profile_id: z.uuid().optional(),
  phone: z.string().trim().min(4).max(32).optional(),
  email: z.email().max(320).optional(),
  psid: z.string().trim().min(1).max(64).optional(),
  igsid: z.string().trim().min(1).max(64).optional(),
}).strict().refine((to) => Object.values(to).some((v) => v !== undefined), {
  message: "give profile_id, phone, email, psid or igsid",
});

const Template = z.object({
  name: z.string().trim().min(1).max(512),
  locale: z.string().trim().min(2).max(15),
  params: z.array(z.string().max(1024)).max(50).default([]),
}).strict();

/**
 * A file: at a URL we fetch, or already in the `media-outbound` bucket (`path`); its type is the
 * WhatsApp message type, whose MIME types and size cap every channel is held to.
 */
const Media = z.object({
  url: z.url().max(2048).refine((u) => /^https?:/.test(u), "must be an http(s) URL").optional(),
  path: z.string().trim().min(1).max(1024).optional(),
  type: z.enum(["image", "document", "video", "audio", "sticker"]),
  caption: z.string().max(1024).optional(),
  filename: z.string().trim().min(1).max(240).optional(),
}).strict().refine((m) => (m.url === undefined) !== (m.path === undefined), {
  message: "give exactly one of url or path",
  path: ["url"],
});

export const ChannelSpec = z.union([
  z.literal("auto"),
  Channel,
  z.array(Channel).min(1).max(CHANNELS.length),
]);

export const SendBody = z.object({
  to: To,
  channel: ChannelSpec.default("auto"),
  text: z.string().trim().min(1).max(4096).optional(),
  template: Template.optional(),
  media: Media.optional(),
  idempotency_key: z.string().trim().min(1).max(200),
  metadata: z.record(z.string(), z.unknown()).optional(),
  send_at: z.iso.datetime({ offset: true }).optional(),
}).strict().refine(
  (b) => [b.text, b.template, b.media].filter((v) => v !== undefined).length === 1,
  { message: "give exactly one of text, template or media", path: ["text"] },
);
export type SendBody = z.infer<typeof SendBody>;

export const ListQuery = z.object({
  profile_id: z.uuid().optional(),
  channel: Channel.optional(),
  status: z.enum(["queued", "unknown", "sent", "delivered", "read", "failed", "blocked"])
    .optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
}).strict();

/** `POST /messages/notifications/{event}`: the event's payload and who it is for. */
export const NotificationBody = z.object({
  to: To,
  data: z.record(z.string(), z.unknown()).default({}),
  locale: z.string().trim().min(2).max(15).optional(),
  channel: ChannelSpec.optional(),
  idempotency_key: z.string().trim().min(1).max(200),
  metadata: z.record(z.string(), z.unknown()).optional(),
  send_at: z.iso.datetime({ offset: true }).optional(),
}).strict();
export type NotificationBody = z.infer<typeof NotificationBody>;
