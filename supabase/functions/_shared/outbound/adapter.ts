/**
 * The one shape every channel adapter answers with. Expected failures are values, classified
 * once here in the adapters, so everything above reads `class` and never a provider's code.
 */
export type ErrorClass = "retryable" | "permanent" | "window_closed";

export interface SendOk {
  ok: true;
  provider: string;
  providerMessageId: string;
}

export interface SendFailed {
  ok: false;
  provider: string;
  error: ChannelFailure;
}

export interface ChannelFailure {
  class: ErrorClass;
  /** The provider's code as a string, or TIMEOUT / NETWORK / HTTP_<status> (the provider's own), or one of ours in AREA.REASON form (CHANNEL.NOT_CONFIGURED, …) */
  code: string;
  /** Safe to log and to store: the provider's own words or ours, bounded, never a stack. */
  message: string;
  httpStatus?: number;
  /** WhatsApp: the recipient is not a WhatsApp user, so this channel will not work for them. */
  notOnChannel?: boolean;
  /** When the provider said how long to wait (Retry-After). */
  retryAfterMs?: number;
  /** The provider is rate-limiting this sender (HTTP 429, WhatsApp 130429/131056/80007/4): slow down. */
  throttled?: boolean;
}

export type SendResult = SendOk | SendFailed;

/** What every adapter factory accepts besides its provider config. */
export interface AdapterOptions {
  /** Defaults to globalThis.fetch; tests and the sandbox inject their own. */
  fetch?: typeof fetch;
  /** Per HTTP request, body included. Default 10 s. */
  timeoutMs?: number;
}

export interface SmsSendOptions {
  /**
   * Our row's id, for the provider to echo back in its delivery callbacks (MTN
   * `clientCorrelatorId`; Twilio `?delivery_id=` on the StatusCallback URL): a send that timed
   * out but was accepted is then recognised instead of sent again.
   */
  deliveryId?: string;
  /** MTN: clientCorrelatorId when there is no deliveryId (a uuid when neither). Ignored by Twilio. */
  correlationId?: string;
  /** Twilio: StatusCallback URL. Ignored by MTN (its receipts go to a registered subscription). */
  statusCallbackUrl?: string;
  /** Twilio: a file sent as MMS (`MediaUrl`). MTN has no media: the text carries the link. */
  mediaUrl?: string;
}

export interface SmsAdapter {
  readonly provider: "mtn" | "twilio";
  send(to: string, body: string, options?: SmsSendOptions): Promise<SendResult>;
}

/** One file carried by an email: its bytes (base64) or a URL the provider fetches. */
export type EmailAttachment =
  & { filename: string; contentType?: string }
  & ({ content: string; path?: never } | { path: string; content?: never });

/** One email as every email provider is asked to send it. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
  /** Extra headers: In-Reply-To / References for a thread, List-Unsubscribe for marketing. */
  headers?: Record<string, string>;
  attachments?: EmailAttachment[];
  tags?: { name: string; value: string }[];
  /** The same key twice is one email at the provider (a retry after a timeout never doubles). */
  idempotencyKey?: string;
}

/** A received email's content, fetched after the webhook that announced it. */
export interface ReceivedEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string | null;
  /** The thread's message ids, oldest first (the References header), for our reply's headers. */
  references: string[];
  attachments: { filename: string; contentType: string | null }[];
}

export interface EmailAdapter {
  readonly provider: "resend";
  /** Most emails one `sendBatch` call takes. */
  readonly maxBatch: number;
  send(message: EmailMessage): Promise<SendResult>;
  /** Several emails in one call, one result each, in order. */
  sendBatch(messages: EmailMessage[], idempotencyKey?: string): Promise<SendResult[]>;
  fetchReceived(id: string): Promise<
    { ok: true; email: ReceivedEmail } | { ok: false; error: ChannelFailure }
  >;
}
