/**
 * Deno tier: the conversation path through the gateway — a person's SMS and WhatsApp messages
 * delivered by the provider sandbox as signed webhooks, the AI agent answering through the
 * sandbox's scripted model (a tool call, then a reply on the same channel), the session context
 * changed by the tool, and the sandbox's status callbacks moving the replies to delivered / read.
 */
import postgres from "postgres";
import { FALLBACK_REPLY } from "../_shared/conversations/reply-to-inbound.ts";
import { SandboxClient } from "../../../scripts/sandbox/client.ts";
import { deliveryLog, sessionOf } from "../../../scripts/sandbox/session-view.ts";
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";
import { runConversationDemo } from "../../../scripts/demo.ts";

function expect(ok: boolean, message: string) {
  if (!ok) throw new Error(message);
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("inbound SMS and WhatsApp get AI replies with a tool call, in one session (the demo path)", async (t) => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: ["sms-inbound", "wa-webhook", "agent-worker", "email-inbound"],
    quiet: true,
  });
  const sql = postgres(stack.urls.db, { prepare: false, max: 1, onnotice: () => {} });
  const sandbox = new SandboxClient(stack.urls.sandbox);
  const target = {
    api: stack.urls.api,
    sandbox: stack.urls.sandbox,
    db: stack.urls.db,
    secretKey: stack.keys.secret,
  };
  try {
    await t.step(
      "SMS → AI (session_add_context) → SMS, then WhatsApp → AI (session_get_context) → WhatsApp",
      async () => {
        const result = await runConversationDemo(target);
        expect(
          result.smsReply.provider === "mtn",
          `SMS reply went through ${result.smsReply.provider}`,
        );
        expect(
          result.smsReply.body.includes("updated the price to 250k"),
          `SMS reply: ${result.smsReply.body}`,
        );
        expect(
          result.whatsappReply.body.includes("The price on file is 250k"),
          `WhatsApp reply: ${result.whatsappReply.body}`,
        );
        expect(result.context.price === "250k", `context: ${JSON.stringify(result.context)}`);
        expect(
          result.emailReply.body.includes("The price on file is 250k"),
          `email reply: ${result.emailReply.body}`,
        );
        expect(
          result.emailReply.email?.subject === "Re: Hello" &&
            /^<.+@sandbox-mail\.test>$/.test(result.emailReply.email.headers["In-Reply-To"] ?? ""),
          `email thread: ${JSON.stringify(result.emailReply.email)}`,
        );

        const calls = (await stack.sandbox.messages({ provider: "openai" })).map((m) => m.body);
        expect(
          calls.some((b) => b.startsWith("tool call session_add_context")),
          `model calls: ${calls}`,
        );
        expect(
          calls.some((b) => b.startsWith("tool call session_get_context")),
          `model calls: ${calls}`,
        );

        // The MTN delivery receipt moves the SMS reply on too; WhatsApp's statuses reached read.
        const rows = await eventually(
          () => deliveryLog(sql, result.sessionId),
          (rs) =>
            rs.some((r) =>
              r.channel === "sms" && r.purpose === "ai_reply" && r.status === "delivered"
            ),
          "the SMS reply's delivery receipt",
        );
        const inbound = rows.filter((r) => r.direction === "inbound").map((r) =>
          `${r.channel}:${r.provider}:${r.body}`
        );
        // The email's signature and nothing else around its new text were stored.
        expect(
          JSON.stringify(inbound) ===
            JSON.stringify([
              "sms:mtn:change the price to 250k",
              "whatsapp:whatsapp:What price did we agree?",
              "email:resend:What price did we agree? Please confirm by email.",
            ]),
          `inbound rows: ${inbound}`,
        );
        expect(
          rows.find((r) => r.channel === "whatsapp" && r.purpose === "ai_reply")?.status === "read",
          "WhatsApp reply not read",
        );
      },
    );

    await t.step(
      "an SMS through Twilio (signed over PUBLIC_FUNCTIONS_URL) is answered too",
      async () => {
        const phone = "+250788000111";
        const seen = await sandbox.ids({ to: phone });
        const sent = await sandbox.inbound({
          channel: "sms",
          provider: "twilio",
          from: phone,
          text: "change the delivery day to Friday",
        });
        expect(
          sent.delivered === 200,
          `Twilio webhook answered ${sent.delivered}: ${JSON.stringify(sent.response)}`,
        );
        expect(String(sent.response).includes("<Response/>"), `TwiML: ${sent.response}`);
        const reply = await sandbox.waitForMessage({ to: phone, channel: "sms" }, seen);
        expect(
          reply?.body.includes("updated the delivery day to Friday") === true,
          `reply: ${reply?.body}`,
        );
        const session = await sessionOf(sql, phone);
        expect(
          session?.context.delivery_day === "Friday",
          `context: ${JSON.stringify(session?.context)}`,
        );
      },
    );

    await t.step(
      "when the model fails: the fallback reply, and the session goes to follow_up",
      async () => {
        const phone = "+250788000222";
        const seen = await sandbox.ids({ to: phone });
        await sandbox.fault({ provider: "openai", mode: "fail", status: 500, count: 1 });
        const sent = await sandbox.inbound({
          channel: "whatsapp",
          from: phone,
          text: "change the price to 300k",
        });
        expect(sent.delivered === 200, `wa-webhook answered ${sent.delivered}`);
        const reply = await sandbox.waitForMessage({ to: phone, channel: "whatsapp" }, seen);
        expect(reply?.body === FALLBACK_REPLY, `reply: ${reply?.body}`);
        const session = await eventually(
          () => sessionOf(sql, phone),
          (s) => s?.status === "follow_up",
          "follow_up",
        );
        expect(
          session?.context.price === undefined,
          `context: ${JSON.stringify(session?.context)}`,
        );
      },
    );

    await t.step("a webhook the sandbox did not sign is refused", async () => {
      const res = await fetch(`${stack.urls.functions}/sms-inbound`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-mtn-signature": "00" },
        body: JSON.stringify({ from: "250788000333", message: "hi", id: "forged" }),
      });
      expect(res.status === 401, `forged MTN webhook got ${res.status}`);
      await res.body?.cancel();
    });
  } finally {
    await sql.end();
    await stack.stop();
  }
});
