/**
 * Conversations for human agents (issue 14): assign/resolve/reopen over HTTP, an agent's reply
 * through the outbound path, and the SLA job (public.run_conversation_sla) with time moved in
 * SQL: a missed target is recorded exactly once however often the job runs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../ai/harness.ts";
import { messagesHandler } from "./handler.ts";
import { rpc } from "../../supabase/functions/_shared/db/rpc.ts";
import { projectKeys } from "../support/auth.ts";
import { loadConfig } from "../../supabase/functions/_shared/config.ts";
import { authOf } from "../../supabase/functions/_shared/http/function-auth.ts";

const KEY = "sb_secret_conversations_tests_0123456789";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const handler = () => messagesHandler(h, KEY);

async function call(
  method: string,
  path: string,
  body?: unknown,
  as: { fn: ReturnType<typeof handler>; headers: Record<string, string> } = {
    fn: handler(),
    headers: { apikey: KEY },
  },
) {
  const res = await as.fn(
    new Request(`http://localhost/messages/conversations${path}`, {
      method,
      headers: { "content-type": "application/json", ...as.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  return { status: res.status, json: await res.json() };
}

/** Signed-in console users: each call as a user with this role (a user access token). */
async function usersWithRoles() {
  const keys = await projectKeys();
  const auth = authOf(
    "messages",
    loadConfig({ SUPABASE_DB_URL: "postgres://unused@127.0.0.1/postgres", ...keys.env }),
  );
  const fn = messagesHandler(h, KEY, { auth });
  return async (role: "agent" | "operator") => {
    const sub = crypto.randomUUID();
    const token = await keys.userToken({ sub, app_metadata: { role } });
    return { id: sub, as: { fn, headers: { authorization: `Bearer ${token}` } } };
  };
}

const ids = (page: { conversations: { id: string }[] }) => page.conversations.map((c) => c.id);

/** A person writes on WhatsApp; their session is the conversation. */
async function conversationWith(text = "I need help") {
  const inbound = await h.receive("whatsapp", h.newPhone(), text);
  return inbound.sessionId!;
}

/** Moves every message and the conversation itself back in time. */
async function ageBy(sessionId: string, interval: string) {
  await h.db
    .sql`update public.message_delivery_log set created_at = created_at - ${interval}::interval
                 where session_id = ${sessionId}`;
  await h.db.sql`update public.omnichannel_sessions
                 set created_at = created_at - ${interval}::interval,
                     assigned_at = assigned_at - ${interval}::interval,
                     resolved_at = resolved_at - ${interval}::interval
                 where id = ${sessionId}`;
}

const runSla = async () => (await rpc(h.db.sql, "run_conversation_sla", {}))[0];

const breaches = (sessionId: string) =>
  h.db.sql`select kind from public.conversation_sla_breaches where session_id = ${sessionId}`;

describe("the SLA job", () => {
  it("marks a conversation past its first-response target breached exactly once", async () => {
    const id = await conversationWith();
    await ageBy(id, "3 hours");
    await runSla();
    await runSla();
    expect(await breaches(id)).toEqual([{ kind: "first_response" }]);
    const { json } = await call("GET", `/${id}`);
    expect(json.breaches).toEqual([expect.objectContaining({ kind: "first_response" })]);
    const breaching = await call("GET", "?view=breaching&limit=200");
    expect(breaching.json.conversations.map((c: { id: string }) => c.id)).toContain(id);
  });

  it("records nothing while the target is not passed, or once an agent answered in time", async () => {
    const young = await conversationWith();
    await ageBy(young, "1 hour");
    const answered = await conversationWith();
    expect((await call("POST", `/${answered}/reply`, { text: "On it" })).status).toBe(202);
    await ageBy(answered, "3 hours");
    await runSla();
    expect(await breaches(young)).toEqual([]);
    expect(await breaches(answered)).toEqual([]);
  });

  it("a message left unanswered after a reply breaches the next-response target once", async () => {
    const id = await conversationWith();
    await call("POST", `/${id}/reply`, { text: "Hello" });
    await ageBy(id, "4 hours");
    await h.receive("whatsapp", (await call("GET", `/${id}`)).json.phone_number, "Still there?");
    await ageBy(id, "3 hours");
    await runSla();
    await runSla();
    expect((await breaches(id)).map((b) => b.kind)).toEqual(["next_response"]);
  });

  it("resolves an idle conversation, archives it after 7 days, and reopens one the person writes to", async () => {
    const idle = await conversationWith();
    await ageBy(idle, "25 hours");
    await runSla();
    expect((await call("GET", `/${idle}`)).json.status).toBe("resolved");
    await ageBy(idle, "8 days");
    await runSla();
    expect((await call("GET", `/${idle}`)).json.status).toBe("archived");

    const back = await conversationWith();
    await call("POST", `/${back}/assign`, { assignee: "agent-7" });
    await call("POST", `/${back}/resolve`);
    await ageBy(back, "1 minute");
    await h.receive(
      "whatsapp",
      (await call("GET", `/${back}`)).json.phone_number,
      "One more thing",
    );
    // Reopened by the message itself (a trigger); the job finds nothing left to reopen.
    expect((await runSla()).reopened).toBe(0);
    expect((await call("GET", `/${back}`)).json).toMatchObject({
      status: "assigned",
      assignee: "agent-7",
    });
  });
});

describe("conversations over HTTP", () => {
  it("assign -> resolve -> reopen, and a move the state does not allow is 409", async () => {
    const id = await conversationWith();
    const unassigned = await call("GET", "?view=unassigned&limit=200");
    expect(unassigned.json.conversations.map((c: { id: string }) => c.id)).toContain(id);

    const assigned = await call("POST", `/${id}/assign`, {
      assignee: "agent-1",
      priority: "high",
      tags: ["billing"],
    });
    expect(assigned.status).toBe(200);
    expect(assigned.json).toMatchObject({
      status: "assigned",
      assignee: "agent-1",
      priority: "high",
      tags: ["billing"],
    });
    const mine = await call("GET", "?view=assigned&assignee=agent-1");
    expect(mine.json.conversations.map((c: { id: string }) => c.id)).toEqual([id]);

    expect((await call("POST", `/${id}/resolve`)).json.status).toBe("resolved");
    const refused = await call("POST", `/${id}/assign`, { assignee: "agent-2" });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("CONVERSATION.INVALID_TRANSITION");
    expect((await call("POST", `/${id}/reopen`)).json).toMatchObject({
      status: "assigned",
      assignee: "agent-1",
    });
    expect((await call("POST", `/${crypto.randomUUID()}/resolve`)).status).toBe(404);
    expect((await call("POST", `/${id}/assign`, {})).status).toBe(400);
  });

  it("an agent's reply goes out through the outbound path, in the conversation", async () => {
    const id = await conversationWith();
    const { status, json } = await call("POST", `/${id}/reply`, {
      text: "Your refund is on its way",
    });
    expect(status).toBe(202);
    expect(json).toMatchObject({ channel: "whatsapp", status: "sent" });
    expect(h.wa.requests.map((r) => r.json)).toEqual([
      expect.objectContaining({
        type: "text",
        text: { body: "Your refund is on its way", preview_url: false },
      }),
    ]);
    const [row] = await h.db.sql`select session_id, purpose, status from public.message_delivery_log
                                 where id = ${json.deliveryId}`;
    expect(row).toEqual({ session_id: id, purpose: "agent_reply", status: "sent" });
  });

  it("a resolved conversation the person writes to is open again at once, before any SLA run", async () => {
    const id = await conversationWith();
    await call("POST", `/${id}/assign`, { assignee: "agent-9" });
    await call("POST", `/${id}/resolve`);
    const phone = (await call("GET", `/${id}`)).json.phone_number;
    await h.receive("whatsapp", phone, "Still broken");
    expect((await call("GET", `/${id}`)).json).toMatchObject({
      status: "assigned",
      assignee: "agent-9",
      resolved_at: null,
    });
    const unassigned = await conversationWith();
    await call("POST", `/${unassigned}/resolve`);
    await h.receive("whatsapp", (await call("GET", `/${unassigned}`)).json.phone_number, "Hi?");
    expect((await call("GET", `/${unassigned}`)).json.status).toBe("open");
  });

  it("pages the inbox by cursor, newest activity first, with a bounded page size", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push(await conversationWith(`page ${i}`));
    const seen: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const page = await call("GET", `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.json.conversations.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.json));
      cursor = page.json.next_cursor;
      pages++;
    }
    // Every conversation once, newest first: the five just made lead, in reverse order.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 5)).toEqual([...made].reverse());
    expect(pages).toBe(Math.ceil(seen.length / 2));
    expect((await call("GET", "?limit=201")).status).toBe(400);
    // A NUL in the query is not a 500 (Postgres text cannot hold it).
    expect((await call("GET", "?assignee=%00%00")).status).toBe(400);
    expect((await call("GET", "?assignee=a%00b")).status).toBe(200);
    const bad = await call("GET", "?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION.INVALID_QUERY");
  });

  it("an agent sees and acts only on unassigned conversations and their own; an operator on all", async () => {
    const user = await usersWithRoles();
    const [ann, bob, boss] = [await user("agent"), await user("agent"), await user("operator")];
    const annsOwn = await conversationWith("for Ann");
    const bobsOwn = await conversationWith("for Bob");
    const open = await conversationWith("for anyone");
    expect((await call("POST", `/${annsOwn}/assign`, {}, ann.as)).json.assignee).toBe(ann.id);
    expect((await call("POST", `/${bobsOwn}/assign`, {}, bob.as)).json.assignee).toBe(bob.id);

    const annSees = ids((await call("GET", "?limit=200", undefined, ann.as)).json);
    expect(annSees).toContain(annsOwn);
    expect(annSees).toContain(open);
    expect(annSees).not.toContain(bobsOwn);
    const bossSees = ids((await call("GET", "?limit=200", undefined, boss.as)).json);
    expect(bossSees).toEqual(expect.arrayContaining([annsOwn, bobsOwn, open]));

    for (
      const [method, path, body] of [
        ["GET", `/${bobsOwn}`, undefined],
        ["POST", `/${bobsOwn}/resolve`, undefined],
        ["POST", `/${bobsOwn}/assign`, {}],
        ["POST", `/${bobsOwn}/reply`, { text: "Hi, Ann here" }],
      ] as const
    ) {
      const refused = await call(method, path, body, ann.as);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.json.error).toEqual({
        code: "CONVERSATION.NOT_YOURS",
        message: "This conversation is assigned to another agent",
      });
    }
    const handOff = await call("POST", `/${open}/assign`, { assignee: bob.id }, ann.as);
    expect(handOff.status).toBe(403);
    expect(handOff.json.error.message).toBe("An agent can assign a conversation only to themself");
    expect(h.wa.requests).toEqual([]);
    expect((await call("GET", `/${bobsOwn}`)).json).toMatchObject({
      status: "assigned",
      assignee: bob.id,
    });

    // An operator moves any of them, including to another agent.
    expect((await call("POST", `/${bobsOwn}/assign`, { assignee: ann.id }, boss.as)).status)
      .toBe(200);
    expect((await call("POST", `/${bobsOwn}/resolve`, undefined, ann.as)).json.status).toBe(
      "resolved",
    );
  });
});
