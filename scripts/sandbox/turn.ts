import type { SandboxClient } from "./client.ts";
import type { InboundResult } from "./inbound.ts";
import type { SandboxMessage } from "./messages.ts";

export interface TurnInput {
  channel: "sms" | "whatsapp" | "messenger" | "instagram" | "email";
  /** E.164; Messenger/Instagram: the PSID/IGSID; email: the address. */
  from: string;
  text: string;
  provider?: "mtn" | "twilio";
  name?: string;
  /** Messenger/Instagram: a quick reply's payload. */
  payload?: string;
  /** Messenger/Instagram: a button's payload (a postback titled `text`). */
  postback?: string;
}

export interface Turn {
  sent: InboundResult;
  /** The answer the person's phone got on that channel; null when none came in time. */
  reply: SandboxMessage | null;
  /** What the model answered meanwhile (tool calls and texts), oldest first. */
  modelCalls: SandboxMessage[];
}

/**
 * One message from a person, delivered by the sandbox as its provider's signed webhook, and the
 * answer that reached their phone on the same channel. Printed as it goes, through `log`.
 */
export async function converse(
  sandbox: SandboxClient,
  input: TurnInput,
  opts: {
    timeoutMs?: number;
    log?: (line: string) => void;
    /** Given the webhook's answer: true once it is known that no answer will come. */
    hopeless?: (sent: InboundResult) => Promise<boolean>;
  } = {},
): Promise<Turn> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const seen = await sandbox.ids({ to: input.from });
  const modelSeen = await sandbox.ids({ provider: "openai" });
  const sent = await sandbox.inbound(input);
  log(`→ ${input.from} on ${input.channel} (${sent.provider} webhook, signed): ${input.text}`);
  log(
    `  webhook answered HTTP ${sent.delivered} ${
      typeof sent.response === "string" ? sent.response : JSON.stringify(sent.response)
    }`,
  );
  if (sent.delivered !== 200) return { sent, reply: null, modelCalls: [] };
  const reply = await sandbox.waitForMessage(
    { to: input.from, channel: input.channel },
    seen,
    opts.timeoutMs,
    opts.hopeless && (() => opts.hopeless!(sent)),
  );
  const modelCalls = (await sandbox.messages({ provider: "openai" })).filter((m) =>
    !modelSeen.has(m.id)
  );
  for (const call of modelCalls) log(`  model: ${call.body}`);
  if (reply) log(`← [${reply.channel} via ${reply.provider}] ${reply.body}`);
  return { sent, reply, modelCalls };
}
