/**
 * The console's inbox (scripts/stack/console/inbox.ts) over the real `messages` handler served on
 * HTTP: the views, phone numbers masked unless revealed, the stats view on the same endpoint, and
 * assign/resolve/reply accepted only from the console's own page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../ai/harness.ts";
import { serve, type Served } from "../support/serve.ts";
import { inboxRoute } from "../../scripts/stack/console/inbox.ts";
import { messagesHandler } from "./handler.ts";

const KEY = "sb_secret_console_inbox_tests_0123456789";
const CONSOLE = "http://127.0.0.1:54323";

let h: Harness;
let functions: Served;

beforeAll(async () => {
  h = await startHarness();
  functions = await serve(messagesHandler(h, KEY));
});
afterAll(async () => {
  await functions?.close();
  await h?.close();
});

async function consoleCall(path: string, init: RequestInit = {}) {
  const req = new Request(`${CONSOLE}${path}`, init);
  const res = await inboxRoute(
    { consoleUrl: CONSOLE, functionsUrl: `${functions.url}/functions/v1`, secretKey: KEY },
    req,
    new URL(req.url),
  ).catch((err) => new Response(JSON.stringify({ error: err.code }), { status: err.status }));
  return { status: res!.status, json: await res!.json() };
}

const post = (path: string, body: unknown, origin: string | null = CONSOLE) =>
  consoleCall(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
    body: JSON.stringify(body),
  });

describe("console inbox", () => {
  it("lists unassigned conversations with the phone masked, and assigns, replies and resolves from the page", async () => {
    const phone = h.newPhone();
    const { sessionId } = await h.receive("whatsapp", phone, "Where is my order?");
    const unassigned = await consoleCall("/api/inbox?view=unassigned");
    const row = unassigned.json.conversations.find((c: { id: string }) => c.id === sessionId);
    expect(row.phone_number).not.toBe(phone);
    expect(row.phone_number).toContain("****");
    const revealed = await consoleCall("/api/inbox?view=unassigned&reveal=1");
    expect(revealed.json.conversations.map((c: { phone_number: string }) => c.phone_number))
      .toContain(phone);

    expect((await post(`/api/inbox/${sessionId}/assign`, { assignee: "ada" }, null)).status)
      .toBe(403);
    expect(
      (await post(`/api/inbox/${sessionId}/assign`, { assignee: "ada" }, "https://evil.example"))
        .status,
    ).toBe(403);
    const assigned = await post(`/api/inbox/${sessionId}/assign`, { assignee: "ada" });
    expect(assigned.json).toMatchObject({ status: "assigned", assignee: "ada" });
    const reply = await post(`/api/inbox/${sessionId}/reply`, { text: "It ships today." });
    expect(reply.json).toMatchObject({ channel: "whatsapp", status: "sent" });
    expect(h.wa.requests.map((r) => (r.json as { text?: { body: string } }).text?.body))
      .toContain("It ships today.");
    expect((await post(`/api/inbox/${sessionId}/resolve`, {})).json.status).toBe("resolved");
  });

  it("the stats view reads GET /messages/stats", async () => {
    const { status, json } = await consoleCall("/api/message-stats");
    expect(status).toBe(200);
    expect(json.channels).toEqual(
      expect.arrayContaining([expect.objectContaining({ channel: "whatsapp" })]),
    );
    expect((await consoleCall("/api/inbox?view=everything")).status).toBe(400);
  });
});
