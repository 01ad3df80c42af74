import { describe, expect, it } from "vitest";
import { getToolDefinitions, toolSchemas } from "./schemas.ts";

const session = "0b6f1f6e-3c1a-4d55-9a57-2b4f8f2f5e10";

describe("tool schemas", () => {
  it("defines exactly the 8 tools, in a stable order", () => {
    expect(getToolDefinitions().map((d) => d.name)).toEqual([
      "conversation_handoff",
      "messaging_send_dual_channel",
      "messaging_send_sms",
      "messaging_send_whatsapp",
      "session_add_context",
      "session_get_context",
      "session_get_or_create",
      "session_update_status",
    ]);
  });

  it("is deterministic: the same definitions, byte for byte, on every call", () => {
    expect(JSON.stringify(getToolDefinitions())).toBe(JSON.stringify(getToolDefinitions()));
  });

  it("describes objects OpenAI can use: no $schema, required fields, no extra properties", () => {
    for (const d of getToolDefinitions()) {
      expect(d.parameters).not.toHaveProperty("$schema");
      expect(d.parameters).toMatchObject({ type: "object", additionalProperties: false });
      expect(d.description.length).toBeGreaterThan(20);
    }
    const sms = getToolDefinitions().find((d) => d.name === "messaging_send_sms")!;
    expect(sms.parameters.required).toEqual(["phone_number", "message"]);
  });

  it("accepts a well-formed call and rejects a national number or a misspelt argument", () => {
    const input = toolSchemas.messaging_send_dual_channel.input;
    expect(input.parse({ phone_number: "+250788123456", whatsapp_message: "*Hi*" })).toEqual({
      phone_number: "+250788123456",
      whatsapp_message: "*Hi*",
    });
    expect(input.safeParse({ phone_number: "0788123456", whatsapp_message: "Hi" }).success).toBe(
      false,
    );
    expect(input.safeParse({ phone: "+250788123456", whatsapp_message: "Hi" }).success).toBe(false);
  });

  it("takes any JSON value for session_add_context and only live statuses for get-or-create", () => {
    const add = toolSchemas.session_add_context.input;
    for (
      const value of [20, "Tuesday 10:00", true, null, [1, 2], { amount: 20, currency: "RWF" }]
    ) {
      expect(add.parse({ session_id: session, key: "monthly_price", value }).value).toEqual(value);
    }
    const getOrCreate = toolSchemas.session_get_or_create.input;
    expect(
      getOrCreate.safeParse({ phone_number: "+250788123456", channel: "sms", status: "closed" })
        .success,
    )
      .toBe(false);
    expect(
      toolSchemas.session_update_status.input.parse({ session_id: session, status: "closed" })
        .status,
    )
      .toBe("closed");
  });
});
