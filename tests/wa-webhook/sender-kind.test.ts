/**
 * The inbound pipeline's TypeScript entry points carry how the sender is identified: a Messenger
 * PSID or an email address resolves to a profile of its own (no phone number), the same one on
 * every message, whichever entry point recorded it (the batched one through the inbox, whose
 * worker derives the message with the kind it was accepted with).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { recordInbound } from "../../supabase/functions/_shared/conversations/record-inbound.ts";
import { acceptInboundBatched } from "../../supabase/functions/_shared/inbox/record-inbound-batch.ts";
import { processInbox } from "../../supabase/functions/_shared/inbox/process-inbox.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const base = { provider: "test", messageType: "text", correlationId: "c" } as const;

describe("inbound recording by sender kind", () => {
  it("a PSID and an email address each resolve to one phone-less profile, through either entry point", async () => {
    const one = await recordInbound(db.sql, {
      ...base,
      channel: "messenger",
      sender: "24680",
      senderKind: "messenger",
      providerMessageId: "mid.kind-1",
      body: "hello",
    });
    const accepted = await Promise.all([
      acceptInboundBatched(db.sql, {
        ...base,
        channel: "messenger",
        sender: "24680",
        senderKind: "messenger",
        providerMessageId: "mid.kind-2",
        body: "again",
      }),
      acceptInboundBatched(db.sql, {
        ...base,
        channel: "email",
        sender: "Ada@Example.COM",
        senderKind: "email",
        providerMessageId: "email-kind-1",
        body: "by mail",
      }),
    ]);
    expect(accepted.map((a) => a.isNew)).toEqual([true, true]);
    const derived = await processInbox(db.sql);
    const [two, mail] = accepted.map((a) => derived.find((d) => d.inboxId === a.inboxId)!.inbound);
    expect(two.profileId).toBe(one.profileId);
    expect(two.sessionId).toBe(one.sessionId);
    expect(mail.profileId).not.toBe(one.profileId);

    const identities = await db.sql`
      select i.kind, i.value, p.phone_number from public.profile_identities i
      join public.profiles p on p.id = i.profile_id
      where i.profile_id in (${one.profileId}, ${mail.profileId}) order by i.kind`;
    expect(identities).toEqual([
      { kind: "email", value: "ada@example.com", phone_number: null },
      { kind: "messenger", value: "24680", phone_number: null },
    ]);
    const [row] = await db.sql`
      select sender from public.message_delivery_log where provider_message_id = 'email-kind-1'`;
    expect(row.sender).toBe("ada@example.com");
  });

  it("without a sender kind the sender is a phone number, as before", async () => {
    const r = await recordInbound(db.sql, {
      ...base,
      channel: "sms",
      sender: "+250788111999",
      providerMessageId: "sms-kind-1",
      body: "hi",
    });
    const [p] = await db.sql`select phone_number from public.profiles where id = ${r.profileId}`;
    expect(p.phone_number).toBe("+250788111999");
  });
});
