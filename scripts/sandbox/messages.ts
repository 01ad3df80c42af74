/** What the sandbox received, as a user would see it arrive on their phone. */
export interface SandboxMessage {
  /** The id the provider answered with (wamid, MTN requestId, Twilio SM sid). */
  id: string;
  provider: string;
  /** "ai": a chat completion the scripted model answered (`to` the model, `body` its answer). */
  /** "genesys": a message or receipt posted to a Genesys Open Messaging integration. */
  channel: "whatsapp" | "sms" | "messenger" | "instagram" | "email" | "ai" | "genesys";
  to: string;
  from: string;
  /** The text the person reads; for a template, its body parameters joined by newlines. */
  body: string;
  template?: { name: string; language: string; parameters: string[] };
  /** Email only: the subject, the HTML part, the extra headers and the attachments' names. */
  email?: {
    subject: string;
    html?: string;
    headers: Record<string, string>;
    attachments: string[];
  };
  /** WhatsApp media: the message type and the link WhatsApp would fetch the file from. */
  media?: { type: string; link?: string; id?: string; caption?: string; filename?: string };
  /** SMS only: how many segments the text takes (GSM-7 or UCS-2). */
  segments?: number;
  /** The request body exactly as received. */
  request_body: string;
  headers: Record<string, string>;
  received_at: string;
}

export interface MessageFilter {
  provider?: string;
  channel?: string;
  to?: string;
}

export interface MessageStoreLimits {
  /** The most messages kept; the oldest go first. */
  maxMessages: number;
  /** The most bytes kept (each message's JSON, roughly its memory); the oldest go first. */
  maxBytes: number;
}

/** 1,000 messages or 16 MiB, whichever comes first: a session's worth, never a fuzz run's. */
export const DEFAULT_LIMITS: MessageStoreLimits = {
  maxMessages: 1_000,
  maxBytes: 16 * 1024 * 1024,
};

/** SANDBOX_MAX_MESSAGES and SANDBOX_MAX_BYTES (positive integers), where set. */
export function limitsFromEnv(
  env: Record<string, string | undefined>,
): Partial<MessageStoreLimits> {
  const limits: Partial<MessageStoreLimits> = {};
  for (
    const [name, key] of [["SANDBOX_MAX_MESSAGES", "maxMessages"], [
      "SANDBOX_MAX_BYTES",
      "maxBytes",
    ]] as const
  ) {
    const raw = env[name];
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new Error(`${name} must be a positive integer, not ${raw}`);
    }
    limits[key] = n;
  }
  return limits;
}

/**
 * In memory, oldest first, a ring of the last messages within a byte cap: the sandbox is for a
 * developer's session, not for keeping. Nothing recorded carries a credential (it is served to
 * whoever asks): headers other than the harmless ones and credential fields of the body are cut.
 */
export class MessageStore {
  #messages: { message: SandboxMessage; bytes: number }[] = [];
  #bytes = 0;
  #listeners: ((message: SandboxMessage) => void)[] = [];
  readonly limits: MessageStoreLimits;

  constructor(limits: Partial<MessageStoreLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** `notify: false` keeps it from the listeners (a message the provider reports nothing on). */
  record(raw: SandboxMessage, opts: { notify?: boolean } = {}): void {
    const message = withoutCredentials(raw);
    const bytes = new TextEncoder().encode(JSON.stringify(message)).byteLength;
    this.#messages.push({ message, bytes });
    this.#bytes += bytes;
    // The newest always stays, even alone over the cap: it is the one being looked for.
    while (
      this.#messages.length > 1 &&
      (this.#messages.length > this.limits.maxMessages || this.#bytes > this.limits.maxBytes)
    ) {
      this.#bytes -= this.#messages.shift()!.bytes;
    }
    if (opts.notify !== false) { for (const listener of this.#listeners) listener(message); }
  }

  /** Called with each message as it is recorded (the status callbacks start from here). */
  onRecord(listener: (message: SandboxMessage) => void): void {
    this.#listeners.push(listener);
  }

  list(filter: MessageFilter = {}): SandboxMessage[] {
    return this.#messages.map((m) => m.message).filter((m) =>
      (!filter.provider || m.provider === filter.provider) &&
      (!filter.channel || m.channel === filter.channel) &&
      (!filter.to || m.to.replace(/^\+/, "") === filter.to.replace(/^\+/, ""))
    );
  }

  /** How much is kept now. */
  size(): { messages: number; bytes: number } {
    return { messages: this.#messages.length, bytes: this.#bytes };
  }

  clear(): number {
    const n = this.#messages.length;
    this.#messages = [];
    this.#bytes = 0;
    return n;
  }
}

const SAFE_HEADERS = new Set(["content-type", "user-agent", "x-correlation-id", "idempotency-key"]);
const CREDENTIAL_FIELD =
  /^(access_token|refresh_token|id_token|token|auth_token|client_secret|client_id|secret|password|api_key|apikey|authorization)$/i;

function withoutCredentials(message: SandboxMessage): SandboxMessage {
  const headers = Object.fromEntries(
    Object.entries(message.headers).filter(([name]) => SAFE_HEADERS.has(name.toLowerCase())),
  );
  return { ...message, headers, request_body: scrubBody(message.request_body) };
}

/** A JSON or form body with its credential fields' values replaced; anything else as it is. */
function scrubBody(body: string): string {
  const trimmed = body.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      let found = false;
      const scrubbed = JSON.stringify(JSON.parse(body), (key, value) => {
        if (!CREDENTIAL_FIELD.test(key)) return value;
        found = true;
        return "[redacted]";
      });
      return found ? scrubbed : body; // otherwise the bytes exactly as received
    } catch {
      return body;
    }
  }
  if (!/^[^=&\s]+=/.test(body)) return body;
  const form = new URLSearchParams(body);
  if (![...form.keys()].some((k) => CREDENTIAL_FIELD.test(k))) return body;
  for (const key of [...new Set(form.keys())]) {
    if (CREDENTIAL_FIELD.test(key)) form.set(key, "[redacted]");
  }
  return form.toString();
}
