import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { countRows, createHarness, post, sign, withReplaced } from "./harness.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  for (const [slug, number, secret, routing] of TENANTS) {
    const [t] = await db.sql<{ id: string }[]>`
      insert into public.tenants (slug, name) values (${slug}, ${slug}) returning id`;
    await db.sql`select public.save_channel_account(p_tenant_id => ${t.id}, p_kind => 'whatsapp',
      p_external_id => ${number}, p_routing => ${routing}, p_credentials => ${
      db.sql.json({ access_token: `${slug}-token`, app_secret: secret })
    })`;
  }
});
afterAll(() => db?.close());

const TENANTS = [
  ["acme", "PN-ACME", "acme-app-secret", "ai"],
  ["globex", "PN-GLOBEX", "globex-app-secret", "agent"],
] as const;
const ENV_NUMBER = "106540352242922";

/** Meta's text example sent to `number` by `from`, with a fresh wamid. */
function textTo(number: string, from: string, wamid: string): string {
  return withReplaced("text", {
    "106540352242922": number,
    "16505551234": from,
    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=": wamid,
  });
}

describe("wa-webhook: the number written to names the tenant", () => {
  // The env-configured number is the default tenant's; other numbers belong to tenant accounts.
  const harness = () => createHarness({ db, vars: { WHATSAPP_PHONE_NUMBER_ID: ENV_NUMBER } });

  it("a number no account holds is acknowledged, logged and nothing is written", async () => {
    const h = harness();
    const before = await countRows(db.sql);
    const body = textTo("PN-NOBODY", "16505550001", "wamid.unknown-number-1");
    const res = await h.handler(post(body, sign(body, "whatever")));
    expect(res.status).toBe(200);
    expect(await countRows(db.sql)).toEqual(before);
    expect(h.events()).toContain("WHATSAPP_NUMBER_UNKNOWN");
  });

  it("each tenant's number is checked with its own app secret, not another's", async () => {
    const h = harness();
    const body = textTo("PN-ACME", "16505550002", "wamid.acme-1");
    expect((await h.handler(post(body, sign(body, "globex-app-secret")))).status).toBe(401);
    expect((await h.handler(post(body, sign(body)))).status).toBe(401);
    expect((await h.handler(post(body, sign(body, "acme-app-secret")))).status).toBe(200);
    await h.settled();
    expect(h.inbound.map((i) => i.sender)).toEqual(["+16505550002"]);
  });

  it("the env number still takes WHATSAPP_APP_SECRET (a single-tenant deployment needs nothing new)", async () => {
    const h = harness();
    const body = textTo(ENV_NUMBER, "16505550003", "wamid.env-1");
    expect((await h.handler(post(body))).status).toBe(200);
    await h.settled();
    expect(h.inbound).toHaveLength(1);
  });

  it("a tenant routed to agents gets no AI reply: the message goes to its Genesys agents", async () => {
    const h = harness();
    const body = textTo("PN-GLOBEX", "16505550004", "wamid.globex-1");
    expect((await h.handler(post(body, sign(body, "globex-app-secret")))).status).toBe(200);
    await h.settled();
    expect(h.inbound).toHaveLength(0);
    expect(h.toAgents).toHaveLength(1);
    const [message, recorded, account] = h.toAgents[0];
    expect(message).toMatchObject({
      sender: "+16505550004",
      body: "Does it come in another color?",
    });
    expect(account).toMatchObject({ phoneNumberId: "PN-GLOBEX", routing: "agent" });
    const [row] = await db.sql`
      select reply_state from public.message_delivery_log where id = ${recorded.deliveryId}`;
    expect(row.reply_state).not.toBe("pending");
  });

  it("a change for another tenant's number inside a signed body is dropped, not recorded", async () => {
    const h = harness();
    const mine = JSON.parse(textTo("PN-ACME", "16505550005", "wamid.acme-mixed"));
    const theirs = JSON.parse(textTo("PN-GLOBEX", "16505550006", "wamid.globex-mixed"));
    mine.entry[0].changes.push(theirs.entry[0].changes[0]);
    const body = JSON.stringify(mine);
    expect((await h.handler(post(body, sign(body, "acme-app-secret")))).status).toBe(200);
    await h.settled();
    expect(h.events()).toContain("WHATSAPP_NUMBER_DROPPED");
    const rows = await db.sql`
      select provider_message_id from public.message_delivery_log
      where provider_message_id in ('wamid.acme-mixed', 'wamid.globex-mixed')`;
    expect(rows.map((r) => r.provider_message_id)).toEqual(["wamid.acme-mixed"]);
  });

  it("no credential reaches the logs, whatever the outcome", async () => {
    const h = harness();
    for (const [number, secret] of [["PN-ACME", "acme-app-secret"], ["PN-GLOBEX", "wrong"]]) {
      const body = textTo(number, "16505550007", `wamid.leak-${number}`);
      await h.handler(post(body, sign(body, secret)));
    }
    await h.settled();
    const logged = JSON.stringify(h.log.lines);
    expect(h.log.lines.length).toBeGreaterThan(0);
    for (const secret of ["acme-app-secret", "globex-app-secret", "acme-token", "globex-token"]) {
      expect(logged).not.toContain(secret);
    }
  });
});
