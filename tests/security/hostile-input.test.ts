/**
 * Hostile but validly signed input never gets a 5xx (providers retry those for days, and a
 * batch must not be lost for one bad element): each case the attack run found, then a property
 * over every string field of every endpoint.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Case, caseArbitrary, type Stack, startStack } from "./endpoints.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

const inbound = (providerMessageId: string) =>
  stack.db
    .sql`select body, status from public.message_delivery_log where provider_message_id = ${providerMessageId}`;

describe("hostile but signed input", () => {
  it("a WhatsApp message whose id is only NUL is skipped and logged; the rest of the batch is recorded, 200", async () => {
    const c = stack.build("wa:batch");
    // deno-lint-ignore no-explicit-any
    const value = (c.body as any).entry[0].changes[0].value;
    const good = value.messages[1].id;
    value.messages[0].id = "\u0000";
    const res = await stack.send(c);
    expect(res.status).toBe(200);
    expect(await inbound(good)).toEqual([{ body: "second", status: "received" }]);
  });

  it("a WhatsApp message typed like an Object.prototype member (toString, constructor) is kept as unsupported, 200", async () => {
    for (const type of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const c = stack.build("wa:batch");
      // deno-lint-ignore no-explicit-any
      const message = (c.body as any).entry[0].changes[0].value.messages[0];
      message.type = type;
      const res = await stack.send(c);
      expect(res.status, type).toBe(200);
      const [row] = await stack.db
        .sql`select message_type from public.message_delivery_log where provider_message_id = ${message.id}`;
      expect(row?.message_type, type).toBe("unsupported");
    }
  });

  it("MTN fields with lone surrogates: 2xx or 400, never 5xx, and the message is kept", async () => {
    const c = stack.build("mtn:inbound");
    const body = c.body as Record<string, string>;
    const id = body.id;
    Object.assign(body, { to: "\ud800", id: `\udc00${id}`, message: "hi \ud800 there" });
    const res = await stack.send(c);
    expect(res.status).toBe(200);
    const [row] = await inbound(`\ufffd${id}`);
    expect(row?.body).toBe("hi \ufffd there");
    for (const field of ["requestId", "transactionId", "errorCode", "errorMessage"]) {
      const receipt = stack.build("mtn:receipt");
      (receipt.body as Record<string, string>)[field] = "\ud800";
      expect((await stack.send(receipt)).status, field).toBeLessThan(500);
    }
  });

  it("Twilio NumSegments and OptOutType with NUL are recorded without it", async () => {
    const c = stack.build("twilio:inbound");
    const body = c.body as Record<string, string>;
    Object.assign(body, { NumSegments: "1\u0000", OptOutType: "\u0000STOP" });
    const res = await stack.send(c);
    expect(res.status).toBe(200);
    const [row] = await stack.db
      .sql`select metadata from public.message_delivery_log where provider_message_id = ${body.MessageSid}`;
    expect(row.metadata).toMatchObject({ num_segments: "1", opt_out_type: "STOP" });
  });

  it("tools and post-call-notify with NUL or lone surrogates in call_id, context and messages: sanitised, never 5xx", async () => {
    const cases: Case[] = [
      {
        endpoint: "post-call-notify",
        body: {
          call_id: "call-\u0000\ud800",
          phone_number: "+250788123001",
          summary: "sum \ud800\u0000",
        },
      },
      {
        endpoint: "messaging-tools",
        body: {
          name: "session_get_or_create",
          arguments: {
            phone_number: "+250788123002",
            channel: "voice",
            call_id: "c\u0000",
            context: { "k\ud800": "v\u0000", "\u0000": "\udfff" },
          },
        },
      },
      {
        endpoint: "messaging-tools",
        body: {
          name: "messaging_send_sms",
          arguments: { phone_number: "+250788123003", message: "\ud800" },
        },
      },
      {
        endpoint: "messaging-tools",
        body: {
          id: "call_\u0000",
          type: "function",
          function: {
            name: "messaging_send_whatsapp",
            arguments: JSON.stringify({ phone_number: "+250788123004", message: "a\u0000\ud800" }),
          },
        },
      },
    ];
    for (const c of cases) {
      const res = await stack.send(c);
      expect(res.status, JSON.stringify(c.body)).toBeLessThan(500);
    }
    const [ctx] = await stack.db.sql`select s.context from public.omnichannel_sessions s
      join public.profiles p on p.id = s.profile_id where p.phone_number = '+250788123002'`;
    expect(ctx.context).toEqual({ "k\ufffd": "v", "": "\ufffd" });
  });

  it("property: any unicode in any string field of any endpoint never gets a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary(stack), async (c) => {
        const res = await stack.send(c);
        expect(res.status, `${c.endpoint} ${JSON.stringify(c.body).slice(0, 300)}`).toBeLessThan(
          500,
        );
      }),
      { numRuns: 150, seed: 8 },
    );
  }, 60_000);
});
