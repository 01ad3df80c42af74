/**
 * The sandbox serves `GET /{waba-id}/message_templates` as Meta does, and the adapter the
 * `messages` function syncs with reads it (statuses lower-cased, parameters counted).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox } from "../../scripts/sandbox/sandbox.ts";
import { SANDBOX_CREDENTIALS as C } from "../../scripts/stack/sandbox-env.ts";
import { listWhatsAppTemplates } from "../../supabase/functions/_shared/channels/whatsapp-templates.ts";
import { serve, type Served } from "../support/serve.ts";

let server: Served;

beforeAll(async () => {
  server = await serve(createSandbox().handler);
});
afterAll(() => server.close());

const list = (token: string = C.whatsappAccessToken, waba: string = C.whatsappBusinessAccountId) =>
  listWhatsAppTemplates({
    baseUrl: `${server.url}/whatsapp/v21.0`,
    accessToken: token,
    businessAccountId: waba,
  });

describe("sandbox: WhatsApp message templates", () => {
  it("lists the business account's templates with their status and parameters", async () => {
    const listed = await list();
    expect(listed.ok).toBe(true);
    const templates = listed.ok ? listed.templates : [];
    expect(templates.map((t) => [t.name, t.status, t.paramCount])).toEqual([
      ["call_summary", "approved", 1],
      ["order_confirmed", "approved", 1],
      ["order_shipped", "approved", 2],
      ["order_delivered", "approved", 1],
      ["order_delayed", "paused", 1],
    ]);
  });

  it("refuses a wrong token or another business account, as Meta does", async () => {
    const wrongToken = await list("nope");
    expect(wrongToken).toMatchObject({ ok: false, error: { code: "190", class: "permanent" } });
    const otherAccount = await list(C.whatsappAccessToken, "999");
    expect(otherAccount).toMatchObject({ ok: false, error: { code: "100" } });
  });
});
