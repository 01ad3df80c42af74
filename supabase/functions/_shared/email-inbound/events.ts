import { z } from "zod";

/**
 * Resend's webhook events as this stack reads them: `{ type, created_at, data }`. Unknown types
 * parse as `other` and are answered 200 with a log line (providers retry non-2xx for days).
 */
const Received = z.object({
  type: z.literal("email.received"),
  data: z.object({
    email_id: z.string().min(1).max(200),
    from: z.string().max(1000),
    to: z.array(z.string()).default([]),
    subject: z.string().nullish(),
    message_id: z.string().nullish(),
  }).loose(),
}).loose();

export const DELIVERY_EVENTS = [
  "email.sent",
  "email.delivered",
  "email.delivery_delayed",
  "email.bounced",
  "email.complained",
  "email.opened",
  "email.clicked",
  "email.failed",
] as const;

const Delivery = z.object({
  type: z.enum(DELIVERY_EVENTS),
  created_at: z.string().optional(),
  data: z.object({
    email_id: z.string().min(1).max(200),
    to: z.union([z.array(z.string()), z.string()]).transform((t) => (Array.isArray(t) ? t : [t]))
      .default([]),
    bounce: z.object({
      type: z.string().optional(),
      subType: z.string().optional(),
      message: z.string().optional(),
    }).loose().optional(),
    failed: z.object({ reason: z.string().optional() }).loose().optional(),
  }).loose(),
}).loose();

const Other = z.object({ type: z.string() }).loose();

export type ReceivedEvent = z.infer<typeof Received>;
export type DeliveryEvent = z.infer<typeof Delivery>;

export type ResendEvent =
  | { kind: "received"; event: ReceivedEvent }
  | { kind: "delivery"; event: DeliveryEvent }
  | { kind: "other"; type: string };

/** Throws a ZodError (→ 400) for a body that is not a Resend event at all. */
export function parseResendEvent(payload: unknown): ResendEvent {
  const received = Received.safeParse(payload);
  if (received.success) return { kind: "received", event: received.data };
  const delivery = Delivery.safeParse(payload);
  if (delivery.success) return { kind: "delivery", event: delivery.data };
  const other = Other.parse(payload);
  if (
    other.type === "email.received" || (DELIVERY_EVENTS as readonly string[]).includes(other.type)
  ) {
    // A known type whose data is not what Resend documents: refuse it, as malformed.
    (other.type === "email.received" ? Received : Delivery).parse(payload);
  }
  return { kind: "other", type: other.type };
}

/** `Ada Lovelace <Ada@Example.com>` → the lower-cased address and the name, or null. */
export function parseMailbox(value: string): { address: string; name?: string } | null {
  const angle = value.match(/^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/);
  const address = (angle ? angle[2] : value.trim()).toLowerCase();
  if (!z.email().safeParse(address).success) return null;
  const name = angle?.[1]?.trim();
  return name ? { address, name } : { address };
}
