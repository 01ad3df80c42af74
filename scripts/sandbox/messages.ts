/** What the sandbox received, as a user would see it arrive on their phone. */
export interface SandboxMessage {
  /** The id the provider answered with (wamid, MTN requestId, Twilio SM sid). */
  id: string;
  provider: string;
  /** "ai": a chat completion the scripted model answered (`to` the model, `body` its answer). */
  channel: "whatsapp" | "sms" | "messenger" | "instagram" | "ai";
  to: string;
  from: string;
  /** The text the person reads; for a template, its body parameters joined by newlines. */
  body: string;
  template?: { name: string; language: string; parameters: string[] };
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

/** In memory, oldest first: the sandbox is for a developer's session, not for keeping. */
export class MessageStore {
  #messages: SandboxMessage[] = [];
  #listeners: ((message: SandboxMessage) => void)[] = [];

  /** `notify: false` keeps it from the listeners (a message the provider reports nothing on). */
  record(message: SandboxMessage, opts: { notify?: boolean } = {}): void {
    this.#messages.push(message);
    if (opts.notify !== false) { for (const listener of this.#listeners) listener(message); }
  }

  /** Called with each message as it is recorded (the status callbacks start from here). */
  onRecord(listener: (message: SandboxMessage) => void): void {
    this.#listeners.push(listener);
  }

  list(filter: MessageFilter = {}): SandboxMessage[] {
    return this.#messages.filter((m) =>
      (!filter.provider || m.provider === filter.provider) &&
      (!filter.channel || m.channel === filter.channel) &&
      (!filter.to || m.to.replace(/^\+/, "") === filter.to.replace(/^\+/, ""))
    );
  }

  clear(): number {
    const n = this.#messages.length;
    this.#messages = [];
    return n;
  }
}
