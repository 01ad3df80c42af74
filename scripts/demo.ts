/**
 * `npm run demo`: the post-call path end to end, as a client application would drive it.
 *
 * Against the local stack (started here, on the default ports, if it is not already running):
 * writes a call summary the way the voice agent does, calls `post-call-notify` through supabase-js
 * `functions.invoke` with the service-role key, then prints what the provider sandbox received on
 * WhatsApp and SMS, the session and the delivery-log rows. Exits non-zero if anything is missing.
 */
import { createClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { startStack, type Stack } from "./stack/stack.ts";
import { deriveKeys, LOCAL_JWT_SECRET } from "./stack/jwt.ts";
import { DEFAULT_PORTS } from "./stack/ports.ts";

const API = `http://127.0.0.1:${DEFAULT_PORTS.functions}`;
const SANDBOX = `http://127.0.0.1:${DEFAULT_PORTS.sandbox}`;

interface SandboxMessage {
  provider: string;
  channel: string;
  to: string;
  body: string;
  template?: unknown;
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

export async function runPostCallDemo(target: { api: string; sandbox: string; db: string; serviceKey: string }) {
  const phone = `+25078${String(1_000_000 + Math.floor(Math.random() * 8_999_999))}`;
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

    section("2. post-call-notify (supabase-js functions.invoke, service role)");
    const client = createClient(target.api, target.serviceKey, { auth: { persistSession: false } });
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
      rows.some((r) => r.status !== "sent") && "a delivery-log row is not 'sent'",
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    console.log("\n✔ post-call summary delivered on WhatsApp and SMS");
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
      const keys = await deriveKeys(Deno.env.get("SUPABASE_JWT_SECRET") ?? LOCAL_JWT_SECRET);
      target = {
        api: API,
        sandbox: SANDBOX,
        db: Deno.env.get("SUPABASE_DB_URL") ??
          `postgres://postgres:postgres@127.0.0.1:${DEFAULT_PORTS.db}/postgres`,
        serviceKey: keys.serviceRole,
      };
    } else {
      console.log("Starting the local stack for the demo…");
      stack = await startStack({ quiet: false });
      target = {
        api: stack.urls.api,
        sandbox: stack.urls.sandbox,
        db: stack.urls.db,
        serviceKey: stack.keys.serviceRole,
      };
    }
    await runPostCallDemo(target);
  } catch (err) {
    console.error(`\n✘ demo failed: ${err instanceof Error ? err.message : err}`);
    code = 1;
  } finally {
    await stack?.stop();
  }
  Deno.exit(code);
}
