import { z } from "zod";
import type { ChannelFailure } from "../outbound/adapter.ts";
import { DEFAULT_TIMEOUT_MS, exchange, httpFailure, joinUrl } from "./http.ts";
import type { GenesysTokens } from "../genesys/token.ts";
import type { GenesysAccount } from "../tenants/accounts.ts";
import { downloadCapped, type DownloadResult } from "../media/download.ts";

/**
 * Genesys Cloud Open Messaging, our side of it: a person's message into an integration
 * (`POST {api}/api/v2/conversations/messages/{integrationId}/inbound/open/message`) and the
 * delivery receipt of an agent's message (`…/inbound/open/receipt`), each with the
 * integration's OAuth token, refreshed once when Genesys answers 401.
 */

/** The person, as Open Messaging names them: the WhatsApp id (E.164) with idType Phone. */
export interface OpenMessageFrom {
  id: string;
  idType: "Phone";
  nickname?: string;
}

export interface OpenAttachment {
  contentType: "Attachment";
  attachment: {
    mediaType: "Image" | "Video" | "Audio" | "File";
    url: string;
    mime: string;
    filename?: string;
  };
}

export interface OpenInboundMessage {
  channel: {
    messageId: string;
    from: OpenMessageFrom;
    time: string;
    /** Free-form channel data; `customAttributes` (string values) reach the agent's flow. */
    metadata?: { customAttributes: Record<string, string> };
  };
  text?: string;
  content?: OpenAttachment[];
}

export type OpenReceiptStatus = "Delivered" | "Read" | "Failed" | "Published";

export interface OpenReceipt {
  /** The Genesys id of the agent's message this receipt is about. */
  id: string;
  channel: { to: { id: string; idType: "Phone" }; time: string };
  status: OpenReceiptStatus;
  reasons?: { code: string; message: string }[];
  direction: "Outbound";
  isFinalReceipt: boolean;
}

const Accepted = z.object({
  id: z.string().min(1),
  conversationId: z.string().optional(),
}).loose();

export type GenesysResult =
  | { ok: true; id: string | null; conversationId: string | null }
  | { ok: false; error: ChannelFailure };

export interface GenesysClient {
  sendInbound(account: GenesysAccount, message: OpenInboundMessage): Promise<GenesysResult>;
  sendReceipt(account: GenesysAccount, receipt: OpenReceipt): Promise<GenesysResult>;
  /**
   * An agent's attachment, at most `maxBytes`: with the integration's OAuth token when the URL is
   * on the Genesys API's own host, without it elsewhere (a pre-signed storage URL needs none, and
   * the token never leaves Genesys).
   */
  downloadAttachment(
    account: GenesysAccount,
    url: string,
    maxBytes: number,
  ): Promise<DownloadResult>;
}

export function createGenesysClient(
  tokens: GenesysTokens,
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): GenesysClient {
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function post(a: GenesysAccount, kind: "message" | "receipt", body: unknown) {
    const url = joinUrl(
      a.apiBaseUrl,
      `/api/v2/conversations/messages/${encodeURIComponent(a.integrationId)}/inbound/open/${kind}`,
    );
    const once = async (token: string) =>
      await exchange(fetchFn, url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(body),
      }, timeoutMs);
    let token = await tokens.get(a);
    if (typeof token !== "string") return { ok: false as const, error: token };
    let result = await once(token);
    if (result.ok && result.reply.status === 401) {
      // Revoked before its stated expiry: one fresh token, one more try.
      await tokens.refused(a, token);
      token = await tokens.get(a);
      if (typeof token !== "string") return { ok: false as const, error: token };
      result = await once(token);
    }
    if (!result.ok) return { ok: false as const, error: result.failure };
    const { reply } = result;
    if (reply.status < 200 || reply.status >= 300) {
      return { ok: false as const, error: httpFailure(reply) };
    }
    const accepted = Accepted.safeParse(reply.json);
    return {
      ok: true as const,
      id: accepted.success ? accepted.data.id : null,
      conversationId: accepted.success ? accepted.data.conversationId ?? null : null,
    };
  }

  async function downloadAttachment(a: GenesysAccount, url: string, maxBytes: number) {
    const once = (token: string | null) =>
      downloadCapped(fetchFn, url, {
        headers: token ? { authorization: `Bearer ${token}` } : undefined,
        maxBytes,
        timeoutMs,
        what: "attachment",
      });
    if (new URL(url).host !== new URL(a.apiBaseUrl).host) return once(null);
    const token = await tokens.get(a);
    if (typeof token !== "string") return { ok: false as const, error: token };
    const got = await once(token);
    if (got.ok || got.error.httpStatus !== 401) return got;
    await tokens.refused(a, token);
    const fresh = await tokens.get(a);
    return typeof fresh === "string" ? once(fresh) : { ok: false as const, error: fresh };
  }

  return {
    sendInbound: (a, message) => post(a, "message", message),
    sendReceipt: (a, receipt) => post(a, "receipt", receipt),
    downloadAttachment,
  };
}
