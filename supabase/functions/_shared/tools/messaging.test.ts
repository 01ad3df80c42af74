import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, sentWhatsApp, startHarness } from "../../../../tests/ai/harness.ts";
import { mtnError } from "../../../../tests/support/fake-providers.ts";
import { countSegments } from "../notifications/sms-segments.ts";
import { createSessionStore } from "../session/omnichannel-session.ts";
import { isToolError, type ToolContext } from "./context.ts";
import { executeMessagingTool, getMessagingTools } from "./messaging.ts";
import { getToolDefinitions } from "./schemas.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const ctx = (over: Partial<ToolContext> = {}): ToolContext => ({
  ...h.senders(),
  correlationId: "corr-tools",
  ...over,
});

function liveSession(phone: string, channel: "whatsapp" | "sms" = "sms") {
  return createSessionStore(h.db.sql).getOrCreate({ phoneNumber: phone, channel });
}

function outbound(phone: string) {
  return h.db.sql`
    select channel, status, purpose, body, session_id, idempotency_key from public.message_delivery_log
    where recipient = ${phone} and direction = 'outbound' order by channel, created_at`;
}

describe("getMessagingTools", () => {
  it("offers the 8 tools as OpenAI function tools built from the schemas", () => {
    const tools = getMessagingTools(undefined, { handoff: true });
    expect(tools).toHaveLength(8);
    expect(tools.map((t) => t.function.name)).toEqual(getToolDefinitions().map((d) => d.name));
    for (const t of tools) {
      expect(t.type).toBe("function");
      expect(t.function.parameters).toMatchObject({ type: "object", additionalProperties: false });
    }
    expect(getMessagingTools(new Set(["session_get_context"])).map((t) => t.function.name))
      .toEqual(["session_get_context"]);
    // Without a handoff to offer (an `ai` number, the messaging-tools function): 7.
    expect(getMessagingTools().map((t) => t.function.name)).not.toContain("conversation_handoff");
  });
});

describe("executeMessagingTool", () => {
  it("messaging_send_whatsapp sends on WhatsApp (inside the window) and logs the row", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "hi");
    const result = await executeMessagingTool(
      "messaging_send_whatsapp",
      { phone_number: phone, message: "*Your order* ships today" },
      ctx(),
    );
    expect(result).toMatchObject({
      channel: "whatsapp",
      status: "sent",
      provider_message_id: expect.stringMatching(/^wamid\./),
    });
    expect(sentWhatsApp(h)).toEqual([
      expect.objectContaining({
        to: phone.slice(1),
        type: "text",
        text: expect.objectContaining({ body: "*Your order* ships today" }),
      }),
    ]);
    const [row] = await outbound(phone);
    expect(row).toMatchObject({ channel: "whatsapp", status: "sent", purpose: "tool" });
  });

  it("messaging_send_sms sends plain text, and an opted-out person gets nothing (blocked)", async () => {
    const phone = h.newPhone();
    const sent = await executeMessagingTool("messaging_send_sms", {
      phone_number: phone,
      message: "Your *code* is ready",
    }, ctx());
    expect(sent).toMatchObject({ channel: "sms", status: "sent" });
    expect(sentSms(h)[0]).toMatchObject({
      receiverAddress: [phone.slice(1)],
      message: "Your code is ready",
    });

    await h.db.sql`update public.profiles set allows_sms = false where phone_number = ${phone}`;
    const blocked = await executeMessagingTool("messaging_send_sms", {
      phone_number: phone,
      message: "again",
    }, ctx());
    expect(blocked).toMatchObject({ status: "blocked", error: { code: "SMS.OPTED_OUT" } });
    expect(sentSms(h)).toHaveLength(1);
  });

  it("messaging_send_dual_channel sends both, deriving a bounded plain SMS when sms_message is omitted", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "hello");
    const long = `*Summary*\n- new price: 250k\n- delivery Friday\n${
      "Details of the agreement. ".repeat(40)
    }`;
    const result = await executeMessagingTool(
      "messaging_send_dual_channel",
      { phone_number: phone, whatsapp_message: long },
      ctx(),
    );
    expect(result).toMatchObject({
      outcome: "sent",
      whatsapp: { status: "sent" },
      sms: { status: "sent" },
    });
    expect(sentWhatsApp(h)[0].text?.body).toBe(long);
    const sms = sentSms(h)[0].message;
    expect(sms.startsWith("Summary\n- new price: 250k")).toBe(true);
    expect(sms).not.toContain("*");
    expect(countSegments(sms).segments).toBeLessThanOrEqual(3);
    expect((await outbound(phone)).map((r) => [r.channel, r.status])).toEqual([["sms", "sent"], [
      "whatsapp",
      "sent",
    ]]);
  });

  it("messaging_send_dual_channel: SMS failing does not stop WhatsApp", async () => {
    const phone = h.newPhone();
    await h.receive("whatsapp", phone, "hello");
    h.mtn.replyNext(mtnError("5000", "Internal error", 500));
    const result = await executeMessagingTool(
      "messaging_send_dual_channel",
      { phone_number: phone, whatsapp_message: "Hi", sms_message: "Hi" },
      ctx(),
    );
    expect(result).toMatchObject({
      outcome: "partial",
      whatsapp: { status: "sent" },
      // Retryable: the SMS stays in the outbox and dispatch retries it.
      sms: { status: "queued", error: { class: "retryable" } },
    });
  });

  it("session_get_or_create returns the live session and merges context", async () => {
    const phone = h.newPhone();
    const first = await executeMessagingTool(
      "session_get_or_create",
      { phone_number: phone, channel: "voice", call_id: "call-1", context: { plan: "premium" } },
      ctx(),
    );
    expect(first).toMatchObject({
      status: "active",
      is_new: true,
      context: { plan: "premium" },
      channels_seen: ["voice"],
    });
    const again = await executeMessagingTool(
      "session_get_or_create",
      JSON.stringify({ phone_number: phone, channel: "sms", status: "follow_up" }),
      ctx(),
    );
    expect(again).toMatchObject({
      session_id: (first as { session_id: string }).session_id,
      is_new: false,
      status: "follow_up",
      channels_seen: ["voice", "sms"],
      expires_at: expect.any(String),
    });
  });

  it("session_add_context and session_get_context write and read the shared context", async () => {
    const s = await liveSession(h.newPhone());
    const added = await executeMessagingTool(
      "session_add_context",
      { session_id: s.sessionId, key: "monthly_price", value: { amount: 250000, currency: "RWF" } },
      ctx(),
    );
    expect(added).toEqual({
      session_id: s.sessionId,
      context: { monthly_price: { amount: 250000, currency: "RWF" } },
    });
    const [row] = await h.db
      .sql`select context from public.omnichannel_sessions where id = ${s.sessionId}`;
    expect(row.context).toEqual({ monthly_price: { amount: 250000, currency: "RWF" } });
    expect(await executeMessagingTool("session_get_context", { session_id: s.sessionId }, ctx()))
      .toEqual({
        session_id: s.sessionId,
        context: { monthly_price: { amount: 250000, currency: "RWF" } },
      });
  });

  it("session_update_status changes the status; a missing session is SESSION.NOT_FOUND", async () => {
    const s = await liveSession(h.newPhone());
    expect(
      await executeMessagingTool("session_update_status", {
        session_id: s.sessionId,
        status: "follow_up",
      }, ctx()),
    )
      .toEqual({ session_id: s.sessionId, status: "follow_up" });
    const missing = crypto.randomUUID();
    for (
      const [name, args] of [
        ["session_update_status", { session_id: missing, status: "closed" }],
        ["session_add_context", { session_id: missing, key: "k", value: 1 }],
        ["session_get_context", { session_id: missing }],
      ] as const
    ) {
      const r = await executeMessagingTool(name, args, ctx());
      expect(r, name).toMatchObject({ error: { code: "SESSION.NOT_FOUND" } });
    }
  });

  it("a closed session cannot be written, and reopening it beside a live one is SESSION.CONFLICT", async () => {
    const phone = h.newPhone();
    const old = await liveSession(phone);
    await executeMessagingTool("session_update_status", {
      session_id: old.sessionId,
      status: "closed",
    }, ctx());
    expect(
      await executeMessagingTool("session_add_context", {
        session_id: old.sessionId,
        key: "k",
        value: 1,
      }, ctx()),
    )
      .toMatchObject({ error: { code: "SESSION.NOT_FOUND" } });
    await liveSession(phone);
    expect(
      await executeMessagingTool("session_update_status", {
        session_id: old.sessionId,
        status: "active",
      }, ctx()),
    )
      .toMatchObject({ error: { code: "SESSION.CONFLICT" } });
  });

  it("invalid arguments come back as TOOL.INVALID_ARGUMENTS with the issues, and nothing runs", async () => {
    const phone = h.newPhone();
    const r = await executeMessagingTool("messaging_send_sms", {
      phone_number: "0788123456",
      mesage: "hi",
    }, ctx());
    expect(isToolError(r)).toBe(true);
    expect(r).toMatchObject({
      error: { code: "TOOL.INVALID_ARGUMENTS", message: expect.stringContaining("phone_number") },
    });
    const paths = (r as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["phone_number", "message"]));
    expect(await executeMessagingTool("session_get_context", "{not json", ctx()))
      .toMatchObject({
        error: { code: "TOOL.INVALID_ARGUMENTS", message: "arguments are not a JSON object" },
      });
    expect(await executeMessagingTool("session_get_context", [1, 2], ctx()))
      .toMatchObject({ error: { code: "TOOL.INVALID_ARGUMENTS" } });
    expect(await executeMessagingTool("session_get_context", { session_id: "nope" }, ctx()))
      .toMatchObject({
        error: { code: "TOOL.INVALID_ARGUMENTS", issues: [{ path: "session_id" }] },
      });
    expect(sentSms(h)).toHaveLength(0);
    expect(await outbound(phone)).toHaveLength(0);
  });

  it("an unknown or switched-off tool is a typed error", async () => {
    expect(await executeMessagingTool("send_email", {}, ctx())).toMatchObject({
      error: { code: "TOOL.UNKNOWN" },
    });
    expect(await executeMessagingTool("__proto__", {}, ctx())).toMatchObject({
      error: { code: "TOOL.UNKNOWN" },
    });
    const r = await executeMessagingTool(
      "messaging_send_sms",
      { phone_number: h.newPhone(), message: "hi" },
      ctx({ enabledTools: new Set(["session_get_context"]) }),
    );
    expect(r).toMatchObject({ error: { code: "TOOL.DISABLED" } });
    expect(sentSms(h)).toHaveLength(0);
  });

  it("acting for one person, tools refuse other numbers and other people's sessions", async () => {
    const me = h.newPhone();
    const other = h.newPhone();
    const mine = await liveSession(me);
    const theirs = await liveSession(other);
    await executeMessagingTool("session_add_context", {
      session_id: theirs.sessionId,
      key: "secret",
      value: "x",
    }, ctx());
    const scoped = ctx({ actingFor: me, sessionId: mine.sessionId, channel: "sms" });

    for (
      const [name, args] of [
        ["session_get_context", { session_id: theirs.sessionId }],
        ["session_add_context", { session_id: theirs.sessionId, key: "k", value: 1 }],
        ["session_update_status", { session_id: theirs.sessionId, status: "closed" }],
        ["session_get_or_create", { phone_number: other, channel: "sms" }],
        ["messaging_send_sms", { phone_number: other, message: "spam" }],
        ["messaging_send_dual_channel", { phone_number: other, whatsapp_message: "spam" }],
      ] as const
    ) {
      expect(await executeMessagingTool(name, args, scoped), name).toMatchObject({
        error: { code: "TOOL.OUT_OF_SCOPE" },
      });
    }
    expect(sentSms(h)).toHaveLength(0);
    expect(
      await executeMessagingTool("session_get_context", { session_id: mine.sessionId }, scoped),
    )
      .toEqual({ session_id: mine.sessionId, context: {} });
  });

  it("with an idempotency key, the same send twice reaches the person once", async () => {
    const phone = h.newPhone();
    const keyed = ctx({ idempotencyKey: "tool_call:call_abc" });
    const first = await executeMessagingTool("messaging_send_sms", {
      phone_number: phone,
      message: "once",
    }, keyed);
    const second = await executeMessagingTool("messaging_send_sms", {
      phone_number: phone,
      message: "once",
    }, keyed);
    expect(second).toMatchObject({
      delivery_id: (first as { delivery_id: string }).delivery_id,
      status: "sent",
    });
    expect(sentSms(h)).toHaveLength(1);
    expect((await outbound(phone))[0].idempotency_key).toBe("tool_call:call_abc:sms");
  });
});
