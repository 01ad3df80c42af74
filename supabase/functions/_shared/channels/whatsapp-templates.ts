import { z } from "zod";
import type { AdapterOptions, ChannelFailure } from "../outbound/adapter.ts";
import { classifyWhatsAppErrorCode } from "./whatsapp.ts";
import {
  assertBaseUrl,
  classOfStatus,
  DEFAULT_TIMEOUT_MS,
  exchange,
  httpFailure,
  joinUrl,
  missingFields,
  notConfigured,
  type ProviderReply,
  safeMessage,
  unreadableSuccess,
} from "./http.ts";

export interface WhatsAppTemplatesConfig {
  baseUrl: string;
  accessToken?: string;
  /** The WhatsApp Business Account id (WHATSAPP_BUSINESS_ACCOUNT_ID). */
  businessAccountId?: string;
}

/** One template as Meta lists it, with what the API needs taken out of its components. */
export interface WhatsAppTemplateInfo {
  id: string;
  name: string;
  language: string;
  /** Lower-cased: approved, pending, rejected, paused, disabled, in_appeal. */
  status: string;
  category: string | null;
  components: unknown[];
  bodyText: string | null;
  /** The highest `{{n}}` in the body: the parameters a send must give. */
  paramCount: number;
}

const Component = z.object({ type: z.string(), text: z.string().optional() }).loose();

const Page = z.object({
  data: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().min(1),
      language: z.string().min(2),
      status: z.string().min(1),
      category: z.string().optional(),
      components: z.array(Component).default([]),
    }).loose(),
  ),
  paging: z.object({ next: z.url().optional() }).loose().optional(),
});

/** Meta pages 25 by default; this asks for 100 and follows `paging.next` up to this many pages. */
const MAX_PAGES = 50;

/**
 * `GET /{waba-id}/message_templates`: every template of the business account, page after page,
 * or the failure (classified like a send's) that stopped the listing.
 */
export async function listWhatsAppTemplates(
  config: WhatsAppTemplatesConfig,
  opts: AdapterOptions = {},
): Promise<{ ok: true; templates: WhatsAppTemplateInfo[] } | { ok: false; error: ChannelFailure }> {
  assertBaseUrl("WhatsApp base URL", config.baseUrl);
  const missing = missingFields({
    accessToken: config.accessToken,
    businessAccountId: config.businessAccountId,
  });
  if (missing.length) return { ok: false, error: notConfigured(missing) };
  const fetchFn = opts.fetch ?? globalThis.fetch;
  let url: URL | undefined = joinUrl(
    config.baseUrl,
    `${encodeURIComponent(config.businessAccountId!)}/message_templates`,
  );
  url.searchParams.set("fields", "id,name,language,status,category,components");
  url.searchParams.set("limit", "100");
  const templates: WhatsAppTemplateInfo[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const result = await exchange(fetchFn, url, {
      headers: { authorization: `Bearer ${config.accessToken}` },
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (!result.ok) return { ok: false, error: result.failure };
    if (result.reply.status !== 200) return { ok: false, error: metaFailure(result.reply) };
    const parsed = Page.safeParse(result.reply.json);
    if (!parsed.success) return { ok: false, error: unreadableSuccess(result.reply) };
    templates.push(...parsed.data.data.map(info));
    url = parsed.data.paging?.next ? new URL(parsed.data.paging.next) : undefined;
  }
  return { ok: true, templates };
}

const MetaError = z.object({ error: z.object({ code: z.number().int(), message: z.string() }) });

/** Meta's own code and words when it gave them, classified as a send's would be. */
function metaFailure(reply: ProviderReply): ChannelFailure {
  const parsed = MetaError.safeParse(reply.json);
  if (!parsed.success) return httpFailure(reply);
  const { code, message } = parsed.data.error;
  return {
    ...classifyWhatsAppErrorCode(code, classOfStatus(reply.status)),
    code: String(code),
    message: safeMessage(message),
    httpStatus: reply.status,
  };
}

function info(t: z.infer<typeof Page>["data"][number]): WhatsAppTemplateInfo {
  const body = t.components.find((c) => c.type.toUpperCase() === "BODY")?.text ?? null;
  let paramCount = 0;
  for (const m of (body ?? "").matchAll(/\{\{\s*(\d+)\s*\}\}/g)) {
    paramCount = Math.max(paramCount, Number(m[1]));
  }
  return {
    id: t.id,
    name: t.name,
    language: t.language,
    status: t.status.toLowerCase(),
    category: t.category?.toLowerCase() ?? null,
    components: t.components,
    bodyText: body,
    paramCount,
  };
}
