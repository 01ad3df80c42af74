/**
 * Stored email templates and one-click unsubscribe: a missing variable stops the send before a
 * row exists; a marketing email carries RFC 8058 headers whose link, POSTed as a mail client
 * does, opts the person out of email, and the next email to them is blocked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type FakeResend, startFakeResend } from "../support/fake-providers.ts";
import { NO_PACING } from "../support/env.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { memoryLogger } from "../../supabase/functions/_shared/log/logger.ts";
import { createSenderDirectory } from "../../supabase/functions/_shared/outbound/senders.ts";
import {
  sendTemplatedEmail,
  TemplatedEmailError,
} from "../../supabase/functions/_shared/email/send-templated.ts";
import { TemplateVariableMissing } from "../../supabase/functions/_shared/email/template.ts";
import { unsubscribeToken } from "../../supabase/functions/_shared/email/unsubscribe.ts";
import { createEmailUnsubscribeHandler } from "../../supabase/functions/_shared/email-unsubscribe/handler.ts";

const UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests";
const FUNCTIONS_URL = "https://ref.supabase.co/functions/v1";

let db: TestDatabase;
let resend: FakeResend;

beforeAll(async () => {
  [db, resend] = await Promise.all([createTestDatabase(), startFakeResend()]);
  await db.sql`
    insert into public.message_templates (channel, name, locale, category, subject, body_text, body_html)
    values
      ('email', 'offer', 'en', 'marketing', 'An offer for {{name}}',
       'Hello {{name}}, {{discount}} off this week.', '<p>Hello {{name}}, {{discount}} off.</p>'),
      ('email', 'receipt', 'en', 'utility', 'Your receipt {{number}}',
       'Receipt {{number}}: {{amount}}', null)`;
});
afterAll(() => Promise.all([db?.close(), resend?.close()]));
beforeEach(() => resend.reset());

function deps(unsubscribe = { publicFunctionsUrl: FUNCTIONS_URL, secret: UNSUBSCRIBE_SECRET }) {
  const env = loadConfig({
    SUPABASE_DB_URL: db.url,
    RESEND_API_BASE_URL: resend.baseUrl,
    RESEND_API_KEY: resend.apiKey,
    EMAIL_FROM: "Acme <news@acme.test>",
  });
  return {
    sql: db.sql,
    logger: memoryLogger(),
    senders: createSenderDirectory(env, { timeoutMs: 5_000 }),
    pacer: NO_PACING,
    unsubscribe,
  };
}

const rowsTo = async (address: string) =>
  await db.sql<{ status: string; error_code: string | null }[]>`
    select status, error_code from public.message_delivery_log
    where channel = 'email' and recipient = ${address} order by created_at`;

describe("templated email", () => {
  it("a missing variable is an error before anything is written or sent", async () => {
    await expect(sendTemplatedEmail(deps(), {
      to: "t1@example.com",
      template: "receipt",
      vars: { number: "R-1" },
      purpose: "receipt",
      correlationId: "c1",
    })).rejects.toBeInstanceOf(TemplateVariableMissing);
    expect(await rowsTo("t1@example.com")).toEqual([]);
    expect(resend.requests).toHaveLength(0);
  });

  it("a transactional template is sent rendered, without unsubscribe headers", async () => {
    const sent = await sendTemplatedEmail(deps(), {
      to: "t2@example.com",
      template: "receipt",
      vars: { number: "R-2", amount: "12 €" },
      purpose: "receipt",
      correlationId: "c2",
    });
    expect(sent.status).toBe("sent");
    const email = resend.sendRequests()[0].json as Record<string, unknown>;
    expect(email).toMatchObject({ subject: "Your receipt R-2", text: "Receipt R-2: 12 €" });
    expect(email.headers).toBeUndefined();
  });

  it("a marketing email carries one-click unsubscribe, which opts the person out of email", async () => {
    const address = "t3@example.com";
    await sendTemplatedEmail(deps(), {
      to: address,
      template: "offer",
      vars: { name: "Ada <3", discount: "20%" },
      purpose: "marketing",
      correlationId: "c3",
    });
    const email = resend.sendRequests()[0].json as {
      html: string;
      headers: Record<string, string>;
    };
    expect(email.html).toBe("<p>Hello Ada &lt;3, 20% off.</p>");
    expect(email.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const link = email.headers["List-Unsubscribe"].slice(1, -1);
    expect(link.startsWith(`${FUNCTIONS_URL}/email-unsubscribe?token=`)).toBe(true);

    const unsubscribe = createEmailUnsubscribeHandler({
      sql: db.sql,
      logger: memoryLogger(),
      secret: UNSUBSCRIBE_SECRET,
    });
    // A link scanner's GET changes nothing; a tampered token is refused.
    const page = await unsubscribe(new Request(link));
    expect(page.status).toBe(200);
    const forged = new URL(link);
    forged.searchParams.set("token", forged.searchParams.get("token")!.replace(/.$/, "0"));
    const refused = await unsubscribe(new Request(forged, { method: "POST" }));
    expect(refused.status).toBe(403);
    const [before] = await db.sql<{ allows_email: boolean }[]>`
      select p.allows_email from public.profiles p join public.profile_identities i
      on i.profile_id = p.id where i.kind = 'email' and i.value = ${address}`;
    expect(before.allows_email).toBe(true);

    // The mail client's RFC 8058 one-click POST.
    const res = await unsubscribe(
      new Request(link, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
      }),
    );
    expect(res.status).toBe(200);
    resend.reset();
    const next = await sendTemplatedEmail(deps(), {
      to: address,
      template: "receipt",
      vars: { number: "R-3", amount: "1 €" },
      purpose: "receipt",
      correlationId: "c4",
    });
    expect(next).toMatchObject({ status: "blocked", error: { code: "EMAIL.OPTED_OUT" } });
    expect(resend.requests).toHaveLength(0);
  });

  it("a signed link naming an address no one can have (with a NUL) is refused, not a 500", async () => {
    const unsubscribe = createEmailUnsubscribeHandler({
      sql: db.sql,
      logger: memoryLogger(),
      secret: UNSUBSCRIBE_SECRET,
    });
    const token = await unsubscribeToken(UNSUBSCRIBE_SECRET, "nul\u0000@example.com");
    const res = await unsubscribe(
      new Request(`${FUNCTIONS_URL}/email-unsubscribe?token=${encodeURIComponent(token)}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
      }),
    );
    expect(res.status).toBe(403);
    const [{ n }] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from public.profile_identities
      where kind = 'email' and value = 'nul@example.com'`;
    expect(n).toBe(0);
  });

  it("refuses marketing email without an unsubscribe secret (fail closed)", async () => {
    await expect(sendTemplatedEmail(deps({ publicFunctionsUrl: FUNCTIONS_URL, secret: "" }), {
      to: "t4@example.com",
      template: "offer",
      vars: { name: "A", discount: "1%" },
      purpose: "marketing",
      correlationId: "c5",
    })).rejects.toBeInstanceOf(TemplatedEmailError);
    expect(resend.requests).toHaveLength(0);
    const unsubscribe = createEmailUnsubscribeHandler({ sql: db.sql, logger: memoryLogger() });
    const res = await unsubscribe(
      new Request(`${FUNCTIONS_URL}/email-unsubscribe?token=x`, { method: "POST" }),
    );
    expect(res.status).toBe(401);
  });
});
