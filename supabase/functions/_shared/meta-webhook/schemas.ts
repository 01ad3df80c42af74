import { z } from "zod";

/**
 * Meta app webhooks for `object: "page"` (Messenger) and `object: "instagram"`: each entry's
 * `messaging[]` holds one event per item. Schemas are loose (Meta adds fields) and each event is
 * parsed on its own, so one malformed event never hides the others.
 */
export const Envelope = z.object({
  object: z.string(),
  entry: z.array(z.unknown()),
});

export const Entry = z.object({
  id: z.string(),
  time: z.number().optional(),
  messaging: z.array(z.unknown()).optional(),
  /** Instagram comments/mentions and Messenger feed changes: not conversations here. */
  changes: z.array(z.unknown()).optional(),
}).loose();

/** Up to the year 5138, as the WhatsApp parser allows: beyond is not a time. */
const MAX_MS = 1e14;

function epochMs(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_MS ? v : undefined;
}

/** Page-scoped ids (PSID, IGSID) and page ids: Meta's are digits; anything odd is refused here. */
const Id = z.object({ id: z.string().regex(/^[\w.:-]{1,64}$/) }).loose();

export const Messaging = z.object({
  sender: Id,
  recipient: Id,
  /** Milliseconds since the epoch; anything that is not a plausible time is dropped. */
  timestamp: z.unknown().optional().transform((v) => epochMs(v)),
}).loose();

export const Attachment = z.object({
  type: z.string(),
  payload: z.record(z.string(), z.unknown()).nullable().optional(),
  title: z.string().optional(),
  URL: z.string().optional(),
}).loose();

export const Message = z.object({
  mid: z.string().min(1),
  text: z.string().optional(),
  is_echo: z.boolean().optional(),
  app_id: z.number().optional(),
  metadata: z.string().optional(),
  is_deleted: z.boolean().optional(),
  is_unsupported: z.boolean().optional(),
  quick_reply: z.object({ payload: z.string() }).loose().optional(),
  reply_to: z.object({
    mid: z.string().optional(),
    story: z.object({ url: z.string().optional(), id: z.string().optional() }).loose().optional(),
  }).loose().optional(),
  attachments: z.array(Attachment).optional(),
  referral: z.record(z.string(), z.unknown()).optional(),
}).loose();

export const Postback = z.object({
  mid: z.string().optional(),
  title: z.string().optional(),
  payload: z.string(),
  referral: z.record(z.string(), z.unknown()).optional(),
}).loose();

export const Delivery = z.object({
  mids: z.array(z.string()).optional(),
  watermark: z.number().int().min(0).max(MAX_MS),
}).loose();

/** Messenger: `watermark`; Instagram (`messaging_seen`): the `mid` of the last message seen. */
export const Read = z.object({
  watermark: z.number().int().min(0).max(MAX_MS).optional(),
  mid: z.string().optional(),
}).loose();

export const Reaction = z.object({
  mid: z.string().min(1),
  action: z.enum(["react", "unreact"]),
  reaction: z.string().optional(),
  emoji: z.string().optional(),
}).loose();

export const Referral = z.object({
  ref: z.string().optional(),
  source: z.string().optional(),
  type: z.string().optional(),
}).loose();
