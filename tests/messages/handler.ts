import type { Harness } from "../ai/harness.ts";
import { secretKeyAuth } from "../support/auth.ts";
import {
  createMessagesHandler,
  type MessagesHandlerDeps,
} from "../../supabase/functions/_shared/messages/handler.ts";
import { templatesOf } from "../../supabase/functions/_shared/messages/templates.ts";
import { listWhatsAppTemplates } from "../../supabase/functions/_shared/channels/whatsapp-templates.ts";

/** The `messages` handler as main.ts builds it, on the harness's database and provider fakes. */
export function messagesHandler(
  h: Harness,
  key: string,
  overrides: Partial<MessagesHandlerDeps> = {},
) {
  return createMessagesHandler({
    ...h.senders(),
    auth: secretKeyAuth("messages", key),
    templates: templatesOf(h.db.sql),
    defaultCountry: "RW",
    ratePerMinute: 10_000,
    readsPerMinute: 10_000,
    waitUntil: () => {},
    media: { store: null, fetch, timeoutMs: 5_000 },
    postCall: {
      summaryTemplate: "call_summary",
      templateLanguage: "en",
      summaryWaitMs: 0,
      summaryPollMs: 50,
      sendTimeoutMs: 5_000,
    },
    listWhatsAppTemplates: () =>
      listWhatsAppTemplates({
        baseUrl: h.wa.baseUrl,
        accessToken: h.wa.accessToken,
        businessAccountId: h.wa.businessAccountId,
      }),
    ...overrides,
  });
}
