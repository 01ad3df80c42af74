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
}

export interface SmsAdapter {
  readonly provider: "mtn" | "twilio";
  send(to: string, body: string, options?: SmsSendOptions): Promise<SendResult>;
}
