import { z } from "zod";

/**
 * Meta's WhatsApp Cloud API webhook payloads (fields `messages` and `calls`), as zod schemas.
 *
 * Parsing is layered so that one malformed element never costs the others in the same batch:
 * the envelope keeps its arrays as `unknown[]`, and every entry, change, message, status and
 * call is parsed on its own. Decorations that are nice to have (context, referral, metadata,
 * pricing) `.catch(undefined)`, so a malformed one is dropped instead of losing the message.
 * Strings are bounded: a provider message id lands in a unique index, whose rows Postgres caps
 * at about 2.7 kB.
 */

const id = z.string().trim().min(1).max(256);
const short = z.string().max(1_024);
const long = z.string().max(65_536);
/** Meta sends unix seconds as a string; numbers are accepted too. */
const unixSeconds = z.union([z.string().max(32), z.number()]);
/** Meta's own example payloads write some numbers as strings (order quantities and prices). */
const numeric = z.union([z.number(), z.string().max(64)]);
const opt = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

export const Envelope = z.object({
  object: z.string(),
  entry: z.array(z.unknown()),
});

export const Entry = z.object({ changes: z.array(z.unknown()) });

export const Change = z.object({
  field: z.string().max(128),
  value: z.record(z.string(), z.unknown()),
});

export const BusinessMetadata = z.object({
  display_phone_number: opt(z.string().max(64)),
  phone_number_id: opt(z.string().max(64)),
});

export const Contact = z.object({
  wa_id: z.string().max(64),
  profile: opt(z.object({ name: opt(short) })),
});

export const MetaError = z.object({
  code: z.number().int(),
  title: opt(short),
  message: opt(short),
  error_data: opt(z.object({ details: opt(short) })),
});

/** `{...value, messages, statuses, contacts}` of a `messages` change. */
export const MessagesValue = z.object({
  metadata: opt(BusinessMetadata),
  contacts: opt(z.array(z.unknown())),
  messages: opt(z.array(z.unknown())),
  statuses: opt(z.array(z.unknown())),
  errors: opt(z.array(z.unknown())),
});

export const Context = z.object({
  from: opt(z.string().max(64)),
  id: opt(id),
  forwarded: opt(z.boolean()),
  frequently_forwarded: opt(z.boolean()),
  referred_product: opt(z.object({
    catalog_id: opt(short),
    product_retailer_id: opt(short),
  })),
});

/** Click-to-WhatsApp ads: what the person tapped before writing. */
export const Referral = z.object({
  source_url: opt(short),
  source_id: opt(short),
  source_type: opt(short),
  headline: opt(short),
  body: opt(long),
  media_type: opt(short),
  image_url: opt(short),
  video_url: opt(short),
  thumbnail_url: opt(short),
  ctwa_clid: opt(short),
});

/** What every inbound message has, whatever its type. */
export const MessageBase = z.object({
  from: z.string().max(64),
  id,
  timestamp: opt(unixSeconds),
  type: z.string().max(64),
  context: opt(Context),
  referral: opt(Referral),
  errors: opt(z.array(MetaError)),
});

export const Text = z.object({ body: long });

export const Media = z.object({
  id,
  mime_type: z.string().max(255),
  sha256: opt(z.string().max(256)),
  caption: opt(long),
  filename: opt(short),
  voice: opt(z.boolean()),
  animated: opt(z.boolean()),
});

export const Location = z.object({
  latitude: z.number(),
  longitude: z.number(),
  name: opt(short),
  address: opt(short),
  url: opt(short),
});

const typed = <T extends z.ZodRawShape>(shape: T) => z.array(z.object(shape)).max(50);

/** A shared contact card; only the documented fields are kept. */
export const ContactCard = z.object({
  name: opt(z.object({
    formatted_name: opt(short),
    first_name: opt(short),
    last_name: opt(short),
  })),
  phones: opt(typed({ phone: opt(short), wa_id: opt(short), type: opt(short) })),
  emails: opt(typed({ email: opt(short), type: opt(short) })),
  org: opt(z.object({ company: opt(short), department: opt(short), title: opt(short) })),
  urls: opt(typed({ url: opt(short), type: opt(short) })),
  addresses: opt(typed({
    street: opt(short),
    city: opt(short),
    state: opt(short),
    zip: opt(short),
    country: opt(short),
    country_code: opt(short),
    type: opt(short),
  })),
  birthday: opt(short),
});

export const Contacts = z.array(ContactCard).min(1).max(50);

export const Interactive = z.object({
  type: z.string().max(64),
  button_reply: opt(z.object({ id: short, title: short })),
  list_reply: opt(z.object({ id: short, title: short, description: opt(short) })),
  /** A WhatsApp Flow's answer: `response_json` is a JSON string the form produced. */
  nfm_reply: opt(z.object({ name: opt(short), body: opt(long), response_json: long })),
});

/** A template's quick-reply button. */
export const Button = z.object({ text: short, payload: opt(short) });

/** No `emoji` (or an empty one) means the person removed their reaction. */
export const Reaction = z.object({ message_id: id, emoji: opt(z.string().max(64)) });

export const Order = z.object({
  catalog_id: opt(short),
  text: opt(long),
  product_items: z.array(z.object({
    product_retailer_id: short,
    quantity: numeric,
    item_price: opt(numeric),
    currency: opt(z.string().max(16)),
  })).max(100),
});

export const System = z.object({
  body: opt(long),
  type: opt(short),
  wa_id: opt(z.string().max(64)),
  new_wa_id: opt(z.string().max(64)),
  customer: opt(z.string().max(64)),
});

/** `{type: "..."}` that Meta adds to an unsupported message (what the person actually sent). */
export const Unsupported = z.object({ type: opt(short) });

export const Status = z.object({
  id,
  status: z.string().max(32),
  timestamp: opt(unixSeconds),
  recipient_id: opt(z.string().max(64)),
  // What we sent as biz_opaque_callback_data (our row id), echoed by Meta; anything else is dropped.
  biz_opaque_callback_data: opt(z.string().max(512)),
  errors: opt(z.array(MetaError)),
  pricing: opt(z.object({
    billable: opt(z.boolean()),
    pricing_model: opt(short),
    category: opt(short),
    type: opt(short),
  })),
});

/** WhatsApp Business Calling: `value.calls[]` of a `calls` change. */
export const CallsValue = z.object({
  metadata: opt(BusinessMetadata),
  calls: opt(z.array(z.unknown())),
  statuses: opt(z.array(z.unknown())),
  errors: opt(z.array(z.unknown())),
});

export const Call = z.object({
  id,
  from: z.string().max(64),
  to: z.string().max(64),
  event: z.string().max(64),
  timestamp: opt(unixSeconds),
  direction: opt(z.string().max(64)),
  status: opt(z.string().max(64)),
  start_time: opt(unixSeconds),
  end_time: opt(unixSeconds),
  duration: opt(z.number().int().min(0).max(2_147_483_647)),
});

export type MessageBaseT = z.infer<typeof MessageBase>;
export type ContextT = z.infer<typeof Context>;
export type ReferralT = z.infer<typeof Referral>;
export type StatusT = z.infer<typeof Status>;
export type CallT = z.infer<typeof Call>;
export type MetaErrorT = z.infer<typeof MetaError>;
