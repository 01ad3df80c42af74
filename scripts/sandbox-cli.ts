/**
 * `npm run sandbox -- <command>`: play the person's side against the running local stack
 * (`npm start`) through its provider sandbox. See `npm run sandbox -- --help`.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { SandboxClient } from "./sandbox/client.ts";
import type { SandboxMessage } from "./sandbox/messages.ts";
import { deliveryLog, deliveryTable, sessionOf } from "./sandbox/session-view.ts";
import { converse } from "./sandbox/turn.ts";
import { DEFAULT_PORTS } from "./stack/ports.ts";
import { runningStackDb } from "./stack/stack-file.ts";
import { ROOT } from "./stack/stack.ts";

const HELP = `Usage: npm run sandbox -- <command> [options]

Plays the person's side against the running local stack (npm start), through its provider
sandbox: messages go in as each provider's signed webhooks, and what the stack sends back is
what the sandbox received.

Commands:
  reply <phone|id|address> <text>
                         The person at <phone> (E.164), with that PSID/IGSID on Messenger or
                         Instagram, or at <address> by email, writes <text>. The sandbox delivers
                         it to wa-webhook, sms-inbound, meta-webhook or email-inbound (a reply
                         quoting the last email they got, Resend's signed email.received), waits
                         for the AI's answer on the same channel and prints it, with the
                         session's context and its messages.
      --channel sms|whatsapp|messenger|instagram|email   default sms
      --payload P              Messenger/Instagram: <text> is a tapped quick reply with payload P
                               (share a phone number: --payload +250788123456)
      --postback P             Messenger/Instagram: <text> is a tapped button with payload P
      --provider mtn|twilio    SMS only: the gateway it arrives through (default SMS_PROVIDER)
      --name NAME              WhatsApp only: the person's profile name
      --timeout SECONDS        how long to wait for the answer (default 20)
  agent-reply <phone> <text>
                         A Genesys agent answers the person at <phone> (who wrote on WhatsApp to
                         a number routed to agents): the sandbox posts the Open Messaging
                         outbound webhook to genesys-webhook, signed as Genesys signs, and
                         prints the WhatsApp message the person gets (or the receipt the agent
                         gets when WhatsApp cannot take it)
      --timeout SECONDS        how long to wait for it (default 20)
  agent-end <phone>      The Genesys agent ends the conversation with <phone> (a Presence
                         Disconnect event): a handed-off conversation goes back to the AI
  messages               What the sandbox received, oldest first
      --to PHONE|ID  --provider whatsapp|mtn|twilio|messenger|instagram|openai|genesys
      --channel whatsapp|sms|messenger|instagram|ai|genesys
  clear                  Forget the received messages
  fault <provider> fail|slow|ok
                         The next requests to whatsapp, mtn, twilio, meta or openai fail, are slow, or
                         are answered normally again (ok)
      --status N      HTTP status of a failure (default 500)
      --count N       how many requests (default: all, until ok)
      --delay-ms N    how late a slow answer comes (default 30000: past the AI's 20 s budget)

Options:
  --sandbox URL   default http://127.0.0.1:${DEFAULT_PORTS.sandbox}
  --db URL        for the session (default SUPABASE_DB_URL, else the database npm start noted in
                  .data/stack.json, else the embedded database on ${DEFAULT_PORTS.db})
  -h, --help

Examples:
  npm run sandbox -- reply +250788123456 "change the price to 250k"
  npm run sandbox -- reply +250788123456 "what price did we agree?" --channel whatsapp
  npm run sandbox -- reply 6712458890123456 "is my order on its way?" --channel messenger
  npm run sandbox -- reply 6712458890123456 "+250788123456" --channel messenger --payload +250788123456
  npm run sandbox -- reply --channel email ada@example.com "can you send the invoice?"
  npm run sandbox -- fault openai fail --count 1
  npm run sandbox -- agent-reply +250788123456 "Hi, this is Grace from support"
`;

class UsageError extends Error {}

const { values: opts, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    channel: { type: "string" },
    provider: { type: "string" },
    name: { type: "string" },
    payload: { type: "string" },
    postback: { type: "string" },
    timeout: { type: "string", default: "20" },
    to: { type: "string" },
    status: { type: "string" },
    count: { type: "string" },
    "delay-ms": { type: "string", default: "30000" },
    sandbox: { type: "string", default: `http://127.0.0.1:${DEFAULT_PORTS.sandbox}` },
    db: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const sandbox = new SandboxClient(opts.sandbox!.replace(/\/+$/, ""));

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
  return n;
}

async function assertStackRunning(): Promise<void> {
  try {
    const res = await fetch(`${sandbox.url}/`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
  } catch {
    throw new Error(
      `Nothing answers on ${sandbox.url}: the local stack is not running; start it with npm start`,
    );
  }
}

async function reply(phone: string | undefined, text: string | undefined): Promise<number> {
  if (!phone || !text) {
    throw new UsageError("reply needs a phone number (or PSID, or email address) and a text");
  }
  const channel = oneOf(
    "channel",
    opts.channel,
    ["sms", "whatsapp", "messenger", "instagram", "email"] as const,
  ) ?? "sms";
  const scoped = channel === "messenger" || channel === "instagram";
  const provider = oneOf("provider", opts.provider, ["mtn", "twilio"] as const);
  const timeoutMs = (integer("timeout", opts.timeout) ?? 20) * 1000;
  const from = channel === "email"
    ? phone.toLowerCase()
    : scoped || phone.startsWith("+")
    ? phone
    : `+${phone}`;

  const db = await openDb();
  let blocked: string | null = null;
  const { sent, reply } = await converse(sandbox, {
    channel,
    from,
    text,
    provider,
    name: opts.name,
    ...(scoped && opts.payload ? { payload: opts.payload } : {}),
    ...(scoped && opts.postback ? { postback: opts.postback } : {}),
  }, {
    timeoutMs,
    hopeless: async (s) =>
      Boolean(blocked ??= await noAnswerComing(db, s.provider_message_id, channel)),
  }).finally(() => db.end());
  if (sent.delivered !== 200) {
    console.error(
      `\nThe webhook refused the message (HTTP ${sent.delivered}); the npm start terminal shows why.`,
    );
    return 1;
  }
  if (blocked && !reply) console.log(`\nNo ${channel} answer: ${blocked}.`);
  else if (!reply) {
    console.error(
      `\nNo ${channel} answer within ${
        timeoutMs / 1000
      } s; the npm start terminal shows what the functions did.`,
    );
  }
  await showSession(from);
  return reply || blocked ? 0 : 1;
}

async function openDb() {
  const url = opts.db ??
    await runningStackDb(
      ROOT,
      sandbox.url,
      `postgres://postgres:postgres@127.0.0.1:${DEFAULT_PORTS.db}/postgres`,
    );
  return postgres(url, { prepare: false, max: 1, onnotice: () => {}, connect_timeout: 5 });
}

/**
 * Why no answer will come to this inbound message, once that is known: its AI answer was
 * written `blocked` (the person opted out of the channel), or none is owed (a keyword, or a
 * message from a person who opted out of WhatsApp). Null while an answer may still come, and
 * when the database cannot say.
 */
async function noAnswerComing(
  sql: postgres.Sql,
  providerMessageId: string,
  channel: string,
): Promise<string | null> {
  try {
    const [row] = await sql<
      { reply_state: string | null; status: string | null; error_message: string | null }[]
    >`
      select i.reply_state, a.status, a.error_message
      from public.message_delivery_log i
      left join public.message_delivery_log a on a.idempotency_key = 'ai_reply:' || i.id::text
      where i.direction = 'inbound' and i.channel = ${channel} and i.provider_message_id = ${providerMessageId}`;
    if (row?.status === "blocked") return `the AI's answer was blocked (${row.error_message})`;
    if (row && (row.reply_state === null || row.reply_state === "skipped")) {
      return `none is owed (a keyword, or the person opted out of ${channel})`;
    }
    return null;
  } catch {
    return null;
  }
}

async function showSession(phone: string): Promise<void> {
  const sql = await openDb();
  try {
    const session = await sessionOf(sql, phone);
    if (!session) {
      console.log(`\nNo open session for ${phone}.`);
      return;
    }
    console.log(
      `\nSession ${session.id} (${session.status}; channels ${session.channels_seen.join(", ")})`,
    );
    console.log(`context: ${JSON.stringify(session.context, null, 2)}`);
    const log = await settledLog(sql, session.id);
    console.table(deliveryTable(log.slice(-8)));
    if (log.length > 8) {
      console.log(
        `(the last 8 of the session's ${log.length} messages; ${
          log.length - 8
        } older ones not shown)`,
      );
    }
  } catch (err) {
    console.error(
      `\n(could not read the session from the database: ${
        err instanceof Error ? err.message : err
      })`,
    );
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** How far the sandbox's status callbacks take a message on each channel. */
const FINAL: Record<string, string> = {
  whatsapp: "read",
  sms: "delivered",
  messenger: "read",
  instagram: "read",
  email: "delivered",
};

/** The session's messages once the reply's status callbacks are in (at most 2 s). */
async function settledLog(sql: postgres.Sql, sessionId: string) {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const rows = await deliveryLog(sql, sessionId);
    const last = rows.findLast((r) => r.direction === "outbound");
    if (
      !last || last.status === FINAL[last.channel] || last.status === "failed" ||
      Date.now() > deadline
    ) {
      return rows;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function agentEnd(phone: string | undefined): Promise<number> {
  if (!phone) throw new UsageError("agent-end needs a phone number");
  const ended = await sandbox.agentEnd(phone.startsWith("+") ? phone : `+${phone}`);
  console.log(`genesys-webhook answered HTTP ${ended.status}: ${ended.answer}`);
  return ended.status === 200 ? 0 : 1;
}

async function agentReply(phone: string | undefined, text: string | undefined): Promise<number> {
  if (!phone || !text) throw new UsageError("agent-reply needs a phone number and a text");
  const to = phone.startsWith("+") ? phone : `+${phone}`;
  const timeoutMs = (integer("timeout", opts.timeout) ?? 20) * 1000;
  const seen = await sandbox.ids({ to });
  const sent = await sandbox.agentReply(to, text);
  if (sent.status !== 200) {
    console.error(`genesys-webhook answered HTTP ${sent.status}: ${sent.answer}`);
    return 1;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = (await sandbox.messages({ to })).find((m) => !seen.has(m.id));
    if (got) {
      console.log(`${to} got on WhatsApp: ${got.body}`);
      return 0;
    }
    const receipt = (await sandbox.messages({ provider: "genesys" })).findLast((m) =>
      m.from === to && m.body.startsWith("receipt Failed")
    );
    if (receipt) {
      console.log(`The agent got a ${receipt.body}`);
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`Nothing reached ${to} within ${timeoutMs / 1000} s`);
  return 1;
}

async function messages(): Promise<number> {
  const list = await sandbox.messages({
    to: opts.to,
    provider: opts.provider,
    channel: opts.channel,
  });
  if (list.length === 0) console.log("The sandbox has received nothing yet.");
  else console.table(list.map(row));
  return 0;
}

const row = (m: SandboxMessage) => ({
  at: m.received_at.slice(11, 19),
  provider: m.provider,
  channel: m.channel,
  to: m.to,
  body: m.body.length > 60 ? `${m.body.slice(0, 59)}…` : m.body,
});

async function fault(provider: string | undefined, mode: string | undefined): Promise<number> {
  if (!provider || !mode) {
    throw new UsageError("fault needs a provider and a mode (fail, slow or ok)");
  }
  const m = oneOf("mode", mode, ["fail", "slow", "ok"] as const)!;
  const body = {
    provider,
    mode: m,
    ...(m === "fail" && opts.status ? { status: integer("status", opts.status) } : {}),
    ...(m === "slow" ? { delay_ms: integer("delay-ms", opts["delay-ms"]) } : {}),
    ...(opts.count ? { count: integer("count", opts.count) } : {}),
  };
  const out = await sandbox.fault(body) as { faults: unknown[] };
  console.log(m === "ok" ? `${provider}: answered normally again` : `${provider}: ${m}`);
  console.log(JSON.stringify(out.faults, null, 2));
  return 0;
}

async function main(): Promise<number> {
  const [command, ...rest] = positionals;
  if (opts.help || !command || command === "help") {
    console.log(HELP);
    return command || opts.help ? 0 : 2;
  }
  await assertStackRunning();
  switch (command) {
    case "reply":
      return await reply(rest[0], rest.slice(1).join(" ") || undefined);
    case "messages":
      return await messages();
    case "clear":
      console.log(`Forgot ${await sandbox.clear()} message(s).`);
      return 0;
    case "fault":
      return await fault(rest[0], rest[1]);
    case "agent-reply":
      return await agentReply(rest[0], rest.slice(1).join(" ") || undefined);
    case "agent-end":
      return await agentEnd(rest[0]);
  }
  throw new UsageError(`unknown command ${command}`);
}

try {
  Deno.exit(await main());
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n\n${HELP}`);
    Deno.exit(2);
  }
  console.error(err instanceof Error ? err.message : String(err));
  Deno.exit(1);
}
