/**
 * `npm run demo`: the post-call path and the conversation after it, end to end, as a client
 * application and the person would drive them.
 *
 * Against the local stack (started here, on the default ports, if it is not already running):
 * 1. post-call: writes a call summary the way the voice agent does, calls `post-call-notify`
 *    through supabase-js `functions.invoke` with the secret key, then prints what the
 *    provider sandbox received on WhatsApp and SMS, the session and the delivery-log rows;
 * 2. conversation: the same person answers by SMS ("change the price to 250k"), then asks on
 *    WhatsApp, then by email (an address on file for them, a reply quoting the last email), all
 *    delivered by the sandbox as signed provider webhooks; prints the AI's replies (the scripted
 *    model calls a tool; the email answer is threaded), the session context with the change, and
 *    the session's delivery log, inbound and outbound on the three channels, receipts included;
 * 3. Messenger: the same person writes on Messenger (a new PSID, a new profile), shares their
 *    phone number with a quick reply (the two profiles merge), and asks again: the AI answers on
 *    Messenger from the session that SMS, WhatsApp and email built.
 * Exits non-zero if anything is missing.
 */
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { SandboxClient } from "./sandbox/client.ts";
import type { SandboxMessage } from "./sandbox/messages.ts";
import { deliveryLog, type DeliveryRow, deliveryTable, sessionOf } from "./sandbox/session-view.ts";
import { converse, type TurnInput } from "./sandbox/turn.ts";
import { ROOT, type Stack, startStack } from "./stack/stack.ts";
import { loadApiKeys } from "./stack/api-keys.ts";
import { runningStackDb, unreachableDbHint } from "./stack/stack-file.ts";
import { DEFAULT_PORTS } from "./stack/ports.ts";
import { HANDOFF_NOTICE } from "../supabase/functions/_shared/genesys/handoff.ts";

const API = `http://127.0.0.1:${DEFAULT_PORTS.functions}`;
const SANDBOX = `http://127.0.0.1:${DEFAULT_PORTS.sandbox}`;

export interface DemoTarget {
  api: string;
  sandbox: string;
  db: string;
  /** A secret key (`sb_secret_…`): the demo needs no legacy key. */
  secretKey: string;
}

async function isRunning(): Promise<boolean> {
  try {
    const res = await fetch(`${API}/functions/v1/health`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function section(title: string) {
  console.log(`\n── ${title} ${"─".repeat(Math.max(0, 60 - title.length))}`);
}

const randomPhone = () => `+25078${String(1_000_000 + Math.floor(Math.random() * 8_999_999))}`;

/** Only a delivery that went out counts; a status callback may already have moved it on. */
const WENT_OUT = ["sent", "delivered", "read"];

export async function runPostCallDemo(
  target: DemoTarget,
): Promise<{ phone: string; callId: string }> {
  const phone = randomPhone();
  const callId = `demo-call-${Date.now()}`;
  const summary =
    "You asked to move your delivery to Friday morning. We agreed on a new monthly price of 250k " +
    "starting next month. Your technician visit is confirmed for Tuesday at 10:00.";

  const sql = postgres(target.db, { prepare: false, max: 1, onnotice: () => {} });
  try {
    section("1. the voice agent writes the call summary");
    await sql`insert into public.call_summaries (call_id, phone_number, summary, duration_seconds, ended_at)
      values (${callId}, ${phone}, ${summary}, 312, now())`;
    console.log(`call_summaries: ${callId} for ${phone}`);

    section("2. post-call-notify (supabase-js functions.invoke, secret key)");
    const client = createClient(target.api, target.secretKey, { auth: { persistSession: false } });
    const { data, error } = await client.functions.invoke("post-call-notify", {
      body: { call_id: callId, phone_number: phone },
    });
    if (error) throw new Error(`post-call-notify failed: ${error.message}`);
    console.log(JSON.stringify(data, null, 2));

    section("3. what the provider sandbox received");
    const received: SandboxMessage[] = await (await fetch(
      `${target.sandbox}/__sandbox/messages?to=${encodeURIComponent(phone)}`,
    )).json();
    for (const m of received) {
      console.log(`[${m.channel} via ${m.provider}] to ${m.to}`);
      console.log(indent(m.body ?? JSON.stringify(m.template)));
    }

    section("4. the session");
    const [session] = await sql`
      select s.id, s.status, s.call_id, s.channels_seen, s.whatsapp_summary_sent, s.sms_summary_sent,
             s.expires_at, s.context
      from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
      where p.phone_number = ${phone} and s.status <> 'closed'`;
    console.log(JSON.stringify(session, null, 2));

    section("5. message_delivery_log");
    const rows = await sql`
      select channel, direction, message_type, status, provider, provider_message_id, attempts
      from public.message_delivery_log where call_id = ${callId} order by channel`;
    console.table(rows.map((r) => ({ ...r })));

    const channels = new Set(received.map((m) => m.channel));
    const problems = [
      !channels.has("whatsapp") && "the sandbox received no WhatsApp message",
      !channels.has("sms") && "the sandbox received no SMS",
      data?.outcome !== "sent" && `outcome was ${data?.outcome}`,
      rows.some((r) => !WENT_OUT.includes(r.status)) && "a delivery-log row did not go out",
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log("\n✔ post-call summary delivered on WhatsApp and SMS");
    return { phone, callId };
  } finally {
    await sql.end();
  }
}

export interface ConversationDemoResult {
  phone: string;
  sessionId: string;
  smsReply: SandboxMessage;
  whatsappReply: SandboxMessage;
  emailReply: SandboxMessage;
  context: Record<string, unknown>;
  rows: DeliveryRow[];
}

/**
 * The person answers by SMS, then asks on WhatsApp; the AI answers each on its channel, through
 * the scripted model and its tools, in the one session both channels share.
 */
export async function runConversationDemo(
  target: DemoTarget,
  opts: { phone?: string; smsProvider?: "mtn" | "twilio" } = {},
): Promise<ConversationDemoResult> {
  const phone = opts.phone ?? randomPhone();
  const sandbox = new SandboxClient(target.sandbox);
  const sql = postgres(target.db, { prepare: false, max: 1, onnotice: () => {} });
  try {
    section("6. the person answers by SMS");
    const smsReply = await turn(sandbox, {
      channel: "sms",
      from: phone,
      text: "change the price to 250k",
      provider: opts.smsProvider,
    });

    section("7. then asks on WhatsApp");
    const whatsappReply = await turn(sandbox, {
      channel: "whatsapp",
      from: phone,
      text: "What price did we agree?",
    });

    section("8. and by email, from an address on file for them");
    const address = `demo-${phone.slice(1)}@example.com`;
    // As a CRM would: the business knows this person's address (link_identity merges profiles).
    await sql`select public.link_identity(p.id, 'email', ${address})
      from public.profiles p where p.phone_number = ${phone}`;
    const emailReply = await turn(sandbox, {
      channel: "email",
      from: address,
      text: "What price did we agree? Please confirm by email.",
    });
    console.log(`  subject: ${emailReply.email?.subject}`);
    console.log(`  In-Reply-To: ${emailReply.email?.headers["In-Reply-To"]}`);

    section("9. the session: one for the three channels, with the tool's change");
    const session = await sessionOf(sql, phone);
    if (!session) throw new Error(`no open session for ${phone}`);
    console.log(JSON.stringify(session, null, 2));

    section("10. message_delivery_log of the session (status callbacks applied)");
    const rows = await waitFor(
      () => deliveryLog(sql, session.id),
      (rs) =>
        aiReply(rs, "whatsapp")?.status === "read" && aiReply(rs, "email")?.status === "delivered",
    );
    console.table(deliveryTable(rows));

    const has = (channel: string, direction: string) =>
      rows.some((r) => r.channel === channel && r.direction === direction);
    const problems = [
      !smsReply.body.includes("250k") && "the SMS reply does not confirm the price",
      !whatsappReply.body.includes("250k") && "the WhatsApp reply does not give the price",
      !emailReply.body.includes("250k") && "the email reply does not give the price",
      !emailReply.email?.subject.startsWith("Re: ") && "the email reply is not in the thread",
      !emailReply.email?.headers["In-Reply-To"] && "the email reply has no In-Reply-To",
      session.context.price !== "250k" &&
      `context.price is ${JSON.stringify(session.context.price)}, not "250k"`,
      ...["sms", "whatsapp", "email"].flatMap((ch) =>
        ["inbound", "outbound"].map((dir) => !has(ch, dir) && `no ${dir} ${ch} row in the session`)
      ),
      aiReply(rows, "sms") === undefined && "no AI reply row on SMS",
      aiReply(rows, "whatsapp")?.status !== "read" &&
      `the WhatsApp reply is ${
        aiReply(rows, "whatsapp")?.status ?? "missing"
      }, not read (status callbacks)`,
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log(
      "\n✔ SMS → AI → SMS, WhatsApp → AI → WhatsApp and email → AI → email (threaded) in one session; the tool's change is in its context",
    );
    return {
      phone,
      sessionId: session.id,
      smsReply,
      whatsappReply,
      emailReply,
      context: session.context,
      rows,
    };
  } finally {
    await sql.end();
  }
}

export interface MessengerDemoResult {
  psid: string;
  sessionId: string;
  reply: SandboxMessage;
  rows: DeliveryRow[];
}

/**
 * The person of the conversation demo on Messenger: a first message from an unknown PSID, then
 * the phone number shared with a quick reply (their Messenger profile merges into the one SMS
 * and WhatsApp built), then the question again — answered on Messenger from that session.
 */
export async function runMessengerDemo(
  target: DemoTarget,
  phone: string,
): Promise<MessengerDemoResult> {
  const psid = String(6_000_000_000_000_000 + Math.floor(Math.random() * 999_999_999));
  const sandbox = new SandboxClient(target.sandbox);
  const sql = postgres(target.db, { prepare: false, max: 1, onnotice: () => {} });
  try {
    section("11. the same person writes on Messenger (an unknown PSID so far)");
    await turn(sandbox, { channel: "messenger", from: psid, text: "hello from Messenger" });

    section("12. shares their phone number (quick reply user_phone_number)");
    await turn(sandbox, { channel: "messenger", from: psid, text: phone, payload: phone });

    section("13. and asks on Messenger");
    const reply = await turn(sandbox, {
      channel: "messenger",
      from: psid,
      text: "What price did we agree?",
    });

    const session = await sessionOf(sql, psid);
    if (!session) throw new Error(`no open session for PSID ${psid}`);
    const rows = await waitFor(
      () => deliveryLog(sql, session.id),
      (rs) => aiReply(rs, "messenger")?.status === "read",
    );
    section("14. the session: SMS, WhatsApp and Messenger, one person");
    console.table(deliveryTable(rows));
    const identities = await sql<{ kind: string; value: string }[]>`
      select i.kind, i.value from public.profile_identities i
      join public.omnichannel_sessions s on s.profile_id = i.profile_id where s.id = ${session.id}`;
    const [owner] = await sql<{ phone_number: string | null }[]>`
      select p.phone_number from public.omnichannel_sessions s
      join public.profiles p on p.id = s.profile_id where s.id = ${session.id}`;
    console.log(
      `identities: phone=${owner?.phone_number}, ${
        identities.map((i) => `${i.kind}=${i.value}`).join(", ")
      }`,
    );
    const problems = [
      owner?.phone_number !== phone && `the Messenger session is not ${phone}'s`,
      !reply.body.includes("250k") && "the Messenger reply does not give the price",
      !rows.some((r) => r.channel === "sms") && "the SMS messages are not in the session",
      aiReply(rows, "messenger")?.status !== "read" && "the Messenger reply was not read",
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log("\n✔ Messenger → shares phone → the same session as SMS and WhatsApp");
    return { psid, sessionId: session.id, reply, rows };
  } finally {
    await sql.end();
  }
}

export interface HandoffDemoResult {
  handedOff: boolean;
  agentReply?: SandboxMessage;
  handoff?: { state: string; requested_by: string; closed_by: string | null };
}

/**
 * The same person asks for a human on WhatsApp (routing ai_then_agent): they are told an agent
 * takes over, Genesys gets the message with the transcript attached, the sandbox's Genesys agent
 * answers and the person gets it on WhatsApp, then the agent ends the conversation and the AI
 * has it again. A running stack routed otherwise skips the leg and says how to run it.
 */
export async function runHandoffDemo(
  target: DemoTarget,
  phone: string,
): Promise<HandoffDemoResult> {
  const sandbox = new SandboxClient(target.sandbox);
  const sql = postgres(target.db, { prepare: false, max: 1, onnotice: () => {} });
  const handoffRow = async () =>
    (await sql<{ state: string; requested_by: string; closed_by: string | null }[]>`
      select state, requested_by, closed_by from public.conversation_handoffs
      where whatsapp_id = ${phone} order by created_at desc limit 1`)[0];
  try {
    section("15. the person asks for a human on WhatsApp");
    const notice = await turn(sandbox, {
      channel: "whatsapp",
      from: phone,
      text: "I want to talk to a person",
    });
    if (notice.body !== HANDOFF_NOTICE) {
      console.log(
        "  (skipped: this stack routes WhatsApp to the AI only; start it with WHATSAPP_ROUTING=ai_then_agent)",
      );
      return { handedOff: false };
    }
    const posted = await waitFor(
      async () =>
        (await sandbox.messages({ provider: "genesys" })).findLast((m) =>
          m.from === phone && !m.body.startsWith("receipt")
        ),
      (m) => m !== undefined,
    );
    const attributes = posted
      ? JSON.parse(posted.request_body).channel?.metadata?.customAttributes
      : undefined;
    console.log(`  Genesys got: ${posted?.body} with ${Object.keys(attributes ?? {}).join(", ")}`);

    section("16. a Genesys agent answers; the person gets it on WhatsApp");
    const text = "Hi, this is Grace from support: I can confirm the 250k price.";
    const seen = await sandbox.ids({ to: phone });
    const sent = await sandbox.agentReply(phone, text);
    const agentReply = await waitFor(
      async () => (await sandbox.messages({ to: phone })).find((m) => !seen.has(m.id)),
      (m) => m !== undefined,
    );
    console.log(`  ${phone} got on WhatsApp: ${agentReply?.body}`);
    const during = await handoffRow();

    section("17. the agent ends the conversation; the AI has it again");
    await sandbox.agentEnd(phone);
    const handoff = await handoffRow();
    console.table([during, handoff]);
    const problems = [
      sent.status !== 200 && `genesys-webhook answered ${sent.status}`,
      !attributes?.transcript && "Genesys got no transcript",
      agentReply?.body !== text && "the agent's answer did not reach WhatsApp",
      during?.state !== "agent" && `the handoff was ${during?.state}, not agent, once answered`,
      handoff?.state !== "closed" && "the agent's disconnect did not close the handoff",
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log(
      "\n✔ asks for a human → Genesys (with the transcript) → agent → WhatsApp → back to the AI",
    );
    return { handedOff: true, agentReply, handoff };
  } finally {
    await sql.end();
  }
}

/** One message from the person; the AI's answer as their phone got it. */
async function turn(sandbox: SandboxClient, input: TurnInput): Promise<SandboxMessage> {
  const { sent, reply } = await converse(sandbox, input);
  if (sent.delivered !== 200) {
    throw new Error(`the ${sent.provider} webhook answered ${sent.delivered}`);
  }
  if (!reply) throw new Error(`no ${input.channel} reply from the AI within 20 s`);
  return reply;
}

const aiReply = (rows: DeliveryRow[], channel: string) =>
  rows.findLast((r) =>
    r.channel === channel && r.direction === "outbound" && r.purpose === "ai_reply"
  );

/** Polls `read` until `done` (at most 5 s: status callbacks come a few hundred ms apart). */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

/** Fails at once, saying what to set, rather than with a connection error halfway through. */
async function assertDbReachable(url: string): Promise<void> {
  const sql = postgres(url, { prepare: false, max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(unreachableDbHint(url, err));
  } finally {
    await sql.end();
  }
}

const indent = (text: string) => text.split("\n").map((l) => `    ${l}`).join("\n");

if (import.meta.main) {
  let stack: Stack | undefined;
  let code = 0;
  try {
    let target;
    if (await isRunning()) {
      console.log(`Using the stack already running on ${API}`);
      // The running stack's keys: the ones in npm start's environment, or those it keeps in .data/.
      const keys = await loadApiKeys(join(ROOT, ".data/api-keys.json"), Deno.env.toObject());
      target = {
        api: API,
        sandbox: SANDBOX,
        db: await runningStackDb(
          ROOT,
          API,
          `postgres://postgres:postgres@127.0.0.1:${DEFAULT_PORTS.db}/postgres`,
        ),
        secretKey: keys.secret,
      };
      await assertDbReachable(target.db);
    } else {
      console.log("Starting the local stack for the demo (legacy keys disabled)…");
      // ai_then_agent: the AI answers every leg until the person asks for a human (leg 15).
      stack = await startStack({
        quiet: false,
        legacyKeys: false,
        env: { WHATSAPP_ROUTING: "ai_then_agent", ...Deno.env.toObject() },
      });
      target = {
        api: stack.urls.api,
        sandbox: stack.urls.sandbox,
        db: stack.urls.db,
        secretKey: stack.keys.secret,
      };
    }
    const { phone } = await runPostCallDemo(target);
    await runConversationDemo(target, { phone });
    await runMessengerDemo(target, phone);
    await runHandoffDemo(target, phone);
  } catch (err) {
    console.error(`\n✘ demo failed: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    await stack?.stop();
  }
  Deno.exit(code);
}
