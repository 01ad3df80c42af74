/**
 * The post-call summary reaches the person by email too when their profile has an address:
 * a short text + HTML email beside WhatsApp and SMS, each channel failing alone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeResend, resendError, startFakeResend } from "../support/fake-providers.ts";
import { NO_PACING, sendersFor, startTestEnv, type TestEnv } from "../support/env.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { notifyAfterCall } from "../../supabase/functions/_shared/notifications/notify-after-call.ts";

let env: TestEnv;
let resend: FakeResend;
let seq = 0;

beforeAll(async () => {
  [env, resend] = await Promise.all([startTestEnv(), startFakeResend()]);
});
afterAll(() => Promise.all([env?.close(), resend?.close()]));
beforeEach(() => {
  env.reset();
  resend.reset();
});

function deps() {
  return {
    sql: env.db.sql,
    logger: memoryLogger(),
    senders: sendersFor(env, {
      timeoutMs: 10_000,
      vars: {
        RESEND_API_BASE_URL: resend.baseUrl,
        RESEND_API_KEY: resend.apiKey,
        EMAIL_FROM: "Acme <calls@acme.test>",
      },
    }),
    pacer: NO_PACING,
    config: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 100,
      summaryPollMs: 50,
      sendTimeoutMs: 12_000,
    },
  };
}

/** A caller whose profile has both a phone number and an email address. */
async function callerWithEmail(address: string) {
  const phone = `+25078${String(6_100_000 + ++seq).padStart(7, "0")}`;
  const [{ id }] = await env.db.sql<{ id: string }[]>`
    select public.resolve_profile('phone', ${phone}) as id`;
  await env.db.sql`select public.link_identity(${id}, 'email', ${address})`;
  return phone;
}

const SUMMARY = "We moved your delivery to Friday <before noon> & waived the fee.";

describe("post-call summary by email", () => {
  it("goes to the person's address as text + escaped HTML, beside WhatsApp and SMS", async () => {
    const phone = await callerWithEmail("caller1@example.com");
    const result = await notifyAfterCall(deps(), {
      callId: `call-email-${seq}`,
      phoneNumber: phone,
      summary: SUMMARY,
      correlationId: "corr-email-1",
    });
    expect(result.outcome).toBe("sent");
    expect(result.deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual([
      "email:sent",
      "sms:sent",
      "whatsapp:sent",
    ]);
    const [req] = resend.sendRequests();
    const email = req.json as Record<string, string>;
    expect(email.to).toEqual(["caller1@example.com"]);
    expect(email.subject).toBe("Summary of your call");
    expect(email.text).toContain(SUMMARY);
    expect(email.html).toContain("Friday &lt;before noon&gt; &amp; waived");
    expect(email.html).not.toContain("<before noon>");

    // A repeat for the same call sends no second email.
    await notifyAfterCall(deps(), {
      callId: `call-email-${seq}`,
      phoneNumber: phone,
      summary: SUMMARY,
      correlationId: "corr-email-1",
    });
    expect(resend.sendRequests()).toHaveLength(1);
  });

  it("email failing does not stop WhatsApp and SMS", async () => {
    const phone = await callerWithEmail("caller2@example.com");
    resend.replyNext(resendError("validation_error", "The domain is not verified", 403));
    const result = await notifyAfterCall(deps(), {
      callId: `call-email-${seq}`,
      phoneNumber: phone,
      summary: SUMMARY,
      correlationId: "corr-email-2",
    });
    expect(result.outcome).toBe("partial");
    const byChannel = Object.fromEntries(result.deliveries.map((d) => [d.channel, d.status]));
    expect(byChannel).toEqual({ whatsapp: "sent", sms: "sent", email: "failed" });
    expect(env.wa.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(env.mtn.sendRequests()).toHaveLength(1);
  });

  it("no address on the profile: no email, nothing else changes", async () => {
    const phone = `+25078${String(6_200_000 + ++seq).padStart(7, "0")}`;
    const result = await notifyAfterCall(deps(), {
      callId: `call-email-${seq}`,
      phoneNumber: phone,
      summary: SUMMARY,
      correlationId: "corr-email-3",
    });
    expect(result.deliveries.map((d) => d.channel).sort()).toEqual(["sms", "whatsapp"]);
    expect(resend.requests).toHaveLength(0);
  });
});
