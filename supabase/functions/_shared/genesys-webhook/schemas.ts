import { z } from "zod";

/**
 * Genesys Cloud Open Messaging outbound notifications (what the integration's outbound webhook
 * receives): an agent's message (`type: Text`, text and/or attachments) or a receipt for a
 * message we posted (`type: Receipt`), plus events we only acknowledge (typing, …).
 */
const id = z.string().trim().min(1).max(256);

export const Attachment = z.object({
  contentType: z.literal("Attachment"),
  attachment: z.object({
    id: z.string().max(256).optional(),
    mediaType: z.string().max(32),
    url: z.url().max(4_096),
    mime: z.string().max(128).optional(),
    filename: z.string().max(256).optional(),
  }),
});

export const Notification = z.object({
  id,
  channel: z.object({
    // The integration id.
    id,
    to: z.object({ id: z.string().max(64) }).loose().optional(),
    time: z.string().max(64).optional(),
    messageId: z.string().max(256).optional(),
  }).loose(),
  type: z.string().max(32),
  text: z.string().max(65_536).optional(),
  content: z.array(z.unknown()).optional(),
  status: z.string().max(32).optional(),
  reasons: z.array(
    z.object({ code: z.string().max(64).optional(), message: z.string().max(1_024).optional() })
      .loose(),
  ).optional(),
  direction: z.string().max(16).optional(),
  conversationId: z.string().max(256).optional(),
  // type Event: [{eventType: "Typing" | "Presence", presence: {type: "Join" | "Disconnect" | …}}]
  events: z.array(
    z.object({
      eventType: z.string().max(32),
      presence: z.object({ type: z.string().max(32) }).loose().optional(),
    }).loose(),
  ).max(20).optional(),
}).loose();

export type NotificationT = z.infer<typeof Notification>;

/** An `Event` notification saying the agent side left the conversation. */
export function isDisconnect(n: NotificationT): boolean {
  return n.type === "Event" &&
    (n.events ?? []).some((e) => e.eventType === "Presence" && e.presence?.type === "Disconnect");
}
