import { describe, expect, it } from "vitest";
import { asksForHuman, handoffAttributes } from "./handoff.ts";

describe("asksForHuman", () => {
  it("hears an explicit request for a human in every supported language", () => {
    for (
      const text of [
        "agent",
        "Human please!",
        "a real person",
        "REPRESENTATIVE",
        "Can I speak to someone?",
        "I want to talk to a person",
        "connect me with a live agent",
        "give me an agent",
        "I need a human",
        "Je veux parler à un conseiller",
        "un humain svp",
        "Est-ce que je peux parler à quelqu’un ?",
        "Ndashaka kuvugana n'umukozi",
        "nshaka kuvugana n'umuntu",
        "Nataka kuongea na mtu",
        "naomba wakala",
        "Quiero hablar con un agente",
        "Quero falar com um atendente",
      ]
    ) expect(asksForHuman(text), text).toBe(true);
  });

  it("leaves ordinary messages that mention people to the AI", () => {
    for (
      const text of [
        "Hi, what time do you open?",
        "I need someone to fix my bill",
        "The person at the desk was very kind",
        "My agent number is 1234",
        "Is a human going to read my complaint about the new price and the extra fees that " +
        "appeared on my last three invoices without any warning at all from your side?",
        "personne ne m'a répondu",
        "",
        null,
      ]
    ) expect(asksForHuman(text), String(text)).toBe(false);
  });
});

describe("handoffAttributes", () => {
  it("carries why, who, the context and the newest transcript lines, under 2,000 characters", () => {
    const history = Array.from({ length: 200 }, (_, i) => ({
      channel: "whatsapp" as const,
      direction: (i % 2 ? "outbound" : "inbound") as "inbound" | "outbound",
      body: `message number ${i} ${"x".repeat(20)}`,
    }));
    const a = handoffAttributes({
      account: { tenantId: "t", accountId: null, phoneNumberId: "1", routing: "ai_then_agent" },
      sessionId: "s-1",
      whatsappId: "+250788123456",
      deliveryId: "d-1",
      requestedBy: "person",
      reason: "The person asked for a human",
      context: { plan: "premium" },
      history,
    });
    expect(a).toMatchObject({
      handoff_reason: "The person asked for a human",
      handoff_requested_by: "person",
      session_id: "s-1",
      session_context: '{"plan":"premium"}',
    });
    expect(Object.values(a).every((v) => typeof v === "string")).toBe(true);
    const size = Object.entries(a).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(2_000);
    expect(a.transcript.split("\n").at(-1)).toBe(
      `Assistant (whatsapp): message number 199 ${"x".repeat(20)}`,
    );
    expect(a.transcript).not.toContain("message number 0 ");
  });
});
