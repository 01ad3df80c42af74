import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, sentSms, startHarness } from "../ai/harness.ts";
import { createMessagingToolsHandler } from "../../supabase/functions/_shared/messaging-tools/handler.ts";
import { getMessagingTools } from "../../supabase/functions/_shared/tools/messaging.ts";
import { createSessionStore } from "../../supabase/functions/_shared/session/omnichannel-session.ts";
import { createSql } from "../../supabase/functions/_shared/db/client.ts";
import { secretKeyAuth } from "../support/auth.ts";

const SECRET_KEY = "sb_secret_for_tests_0123456789";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const handler = (sql = h.db.sql) =>
  createMessagingToolsHandler({
    ...h.senders(),
    sql,
    auth: secretKeyAuth("messaging-tools", SECRET_KEY),
  });

function request(method: string, body?: unknown, key: string | null = SECRET_KEY) {
  return new Request("http://localhost/messaging-tools", {
    method,
    headers: { "content-type": "application/json", ...(key ? { apikey: key } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("messaging-tools", () => {
  it("GET lists the tool definitions", async () => {
    const res = await handler()(request("GET"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tools: getMessagingTools() });
  });

  it("GET leaves out a tool an operator switched off, and POST refuses it", async () => {
    await h.db
      .sql`update public.agent_tool_definitions set enabled = false where name = 'messaging_send_sms'`;
    try {
      const { tools } = await (await handler()(request("GET"))).json();
      expect(tools.map((t: { function: { name: string } }) => t.function.name)).not.toContain(
        "messaging_send_sms",
      );
      expect(tools).toHaveLength(6);
      const res = await handler()(
        request("POST", {
          name: "messaging_send_sms",
          arguments: { phone_number: h.newPhone(), message: "x" },
        }),
      );
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("TOOL.DISABLED");
      expect(sentSms(h)).toHaveLength(0);
    } finally {
      await h.db
        .sql`update public.agent_tool_definitions set enabled = true where name = 'messaging_send_sms'`;
    }
  });

  it("POST {name, arguments} runs the tool", async () => {
    const s = await createSessionStore(h.db.sql).getOrCreate({
      phoneNumber: h.newPhone(),
      channel: "voice",
    });
    const res = await handler()(request("POST", {
      name: "session_add_context",
      arguments: { session_id: s.sessionId, key: "price", value: "250k" },
    }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: "session_add_context",
      result: { session_id: s.sessionId, context: { price: "250k" } },
    });
    const [row] = await h.db
      .sql`select context from public.omnichannel_sessions where id = ${s.sessionId}`;
    expect(row.context).toEqual({ price: "250k" });
  });

  it("POST an OpenAI tool_calls entry (arguments as a JSON string) answers with its id; a retry sends once", async () => {
    const phone = h.newPhone();
    const call = {
      id: "call_Xy12",
      type: "function",
      function: {
        name: "messaging_send_sms",
        arguments: JSON.stringify({ phone_number: phone, message: "Your new price is 250k" }),
      },
    };
    const first = await handler()(request("POST", call));
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body).toMatchObject({
      tool_call_id: "call_Xy12",
      name: "messaging_send_sms",
      result: { channel: "sms", status: "sent" },
    });
    const again = await (await handler()(request("POST", call))).json();
    expect(again.result.delivery_id).toBe(body.result.delivery_id);
    expect(sentSms(h).map((m) => m.message)).toEqual(["Your new price is 250k"]);
  });

  it("a tool's own error (session not found) is its result, answered 200", async () => {
    const res = await handler()(
      request("POST", {
        name: "session_get_context",
        arguments: { session_id: crypto.randomUUID() },
      }),
    );
    expect(res.status).toBe(200);
    expect((await res.json()).result.error.code).toBe("SESSION.NOT_FOUND");
  });

  it("messaging_send_sms to A with B's session_id is refused (403 SESSION.NOT_RECIPIENT); nothing lands in B's session", async () => {
    const [a, b] = [h.newPhone(), h.newPhone()];
    const store = createSessionStore(h.db.sql);
    const bSession = await store.getOrCreate({ phoneNumber: b, channel: "voice" });
    for (
      const [name, args] of [
        ["messaging_send_sms", {
          phone_number: a,
          message: "for A only",
          session_id: bSession.sessionId,
        }],
        ["messaging_send_dual_channel", {
          phone_number: a,
          whatsapp_message: "for A only",
          session_id: bSession.sessionId,
        }],
      ] as const
    ) {
      const res = await handler()(request("POST", { name, arguments: args }));
      expect(res.status, name).toBe(403);
      expect((await res.json()).error.code, name).toBe("SESSION.NOT_RECIPIENT");
    }
    const inB = await h.db
      .sql`select id from public.message_delivery_log where session_id = ${bSession.sessionId}`;
    expect(inB).toHaveLength(0);
    expect(sentSms(h)).toHaveLength(0);
    // A's own session (or none) still works.
    const ok = await handler()(
      request("POST", {
        name: "messaging_send_sms",
        arguments: { phone_number: a, message: "hi A" },
      }),
    );
    expect((await ok.json()).result.status).toBe("sent");
  });

  it("401 without a secret key, and nothing runs", async () => {
    const phone = h.newPhone();
    const body = { name: "messaging_send_sms", arguments: { phone_number: phone, message: "hi" } };
    for (const key of [null, "anon-key", `${SECRET_KEY}x`, SECRET_KEY.slice(0, -1)]) {
      const res = await handler()(request("POST", body, key));
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("AUTH.UNAUTHORIZED");
    }
    expect((await handler()(request("GET", undefined, null))).status).toBe(401);
    expect(sentSms(h)).toHaveLength(0);
  });

  it("400 with the typed error for invalid arguments, a bad body or bad JSON", async () => {
    const invalid = await handler()(
      request("POST", { name: "messaging_send_sms", arguments: { phone_number: "0788" } }),
    );
    expect(invalid.status).toBe(400);
    const { error } = await invalid.json();
    expect(error).toMatchObject({
      code: "TOOL.INVALID_ARGUMENTS",
      issues: expect.arrayContaining([expect.objectContaining({ path: "phone_number" })]),
    });

    const badJsonArgs = await handler()(
      request("POST", {
        id: "c1",
        type: "function",
        function: { name: "session_get_context", arguments: "{" },
      }),
    );
    expect(badJsonArgs.status).toBe(400);
    expect((await badJsonArgs.json()).error.code).toBe("TOOL.INVALID_ARGUMENTS");

    const noName = await handler()(request("POST", { arguments: {} }));
    expect(noName.status).toBe(400);
    expect((await noName.json()).error.code).toBe("VALIDATION.INVALID_BODY");

    const malformed = await handler()(request("POST", "{oops"));
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("HTTP.MALFORMED_JSON");
  });

  it("404 for an unknown tool, 405 for other methods", async () => {
    const res = await handler()(request("POST", { name: "delete_everything", arguments: {} }));
    expect(res.status).toBe(404);
    expect((await res.json()).error).toMatchObject({ code: "TOOL.UNKNOWN" });
    const put = await handler()(request("PUT", {}));
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
  });

  it("503 when the database is unreachable", async () => {
    const dead = createSql("postgres://postgres@127.0.0.1:1/postgres", { max: 1 });
    try {
      const res = await handler(dead)(request("GET"));
      expect(res.status).toBe(503);
    } finally {
      await dead.end({ timeout: 1 });
    }
  });
});
