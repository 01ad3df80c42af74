import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { GenesysClient, GenesysResult, OpenReceipt } from "../channels/genesys.ts";
import type { GenesysAccount } from "../tenants/accounts.ts";
import { openMessageOf } from "./forward-inbound.ts";
import type { MediaStore } from "../media/storage.ts";
import { storedAttachment } from "../media/inbound.ts";

export interface GenesysOutboxDeps {
  sql: Sql;
  logger: Logger;
  genesys: GenesysClient;
  /** The integration a post names, or its tenant's (tenants/accounts.ts). */
  accounts: {
    genesys(integrationId: string): Promise<GenesysAccount | null>;
    genesysOfTenant(tenantId: string): Promise<GenesysAccount | null>;
  };
  /** Where received files were kept (`metadata.stored_media`): a message carries a fresh link. */
  media?: MediaStore | null;
  /** Posts claimed per round (default 50). */
  batchSize?: number;
}

export interface OutboxRound {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
}

type Claimed = Awaited<ReturnType<typeof claim>>[number];

const claim = (sql: Sql, ids: number[] | undefined, limit: number) =>
  rpc(sql, "claim_genesys_posts", {
    p_ids: ids,
    p_limit: limit,
    p_lease_seconds: 60,
  });

/**
 * Posts to Genesys as durable rows (public.genesys_outbox): a person's message (built from its
 * delivery-log row when it is posted, with a handoff's attributes) or a receipt. `post(ids)`
 * sends the rows just enqueued, right away; `drain()` (the dispatch tick) sends every due row.
 * Each row is claimed skip-locked under a lease, so two workers never post it together; a 429,
 * a 5xx or a timeout leaves it due again with the outbox's backoff (record_genesys_post), a
 * refusal fails it for good, visible with its error. Genesys dedupes on `channel.messageId`
 * (the wamid), so a post whose answer was lost and is sent again is not a second message.
 */
export function createGenesysOutbox(deps: GenesysOutboxDeps) {
  const limit = deps.batchSize ?? 50;

  async function postOne(row: Claimed): Promise<string> {
    const log = deps.logger.child({ genesys_post_id: row.id, delivery_id: row.delivery_id });
    const integration = row.integration_id
      ? await deps.accounts.genesys(row.integration_id)
      : await deps.accounts.genesysOfTenant(row.tenant_id);
    if (!integration) {
      log.error("GENESYS_NOT_CONFIGURED", { tenant_id: row.tenant_id });
      return await rpcValue(deps.sql, "record_genesys_post", {
        p_id: row.id,
        p_ok: false,
        p_error: "GENESYS.NOT_CONFIGURED: the tenant has no Genesys integration",
      });
    }
    const body = row.kind === "message"
      ? await messageBody(row, deps.media ?? null)
      : row.payload as unknown as OpenReceipt;
    const sent: GenesysResult = row.kind === "message"
      ? await deps.genesys.sendInbound(integration, body as Awaited<ReturnType<typeof messageBody>>)
      : await deps.genesys.sendReceipt(integration, body as OpenReceipt);
    if (sent.ok && row.kind === "message" && row.delivery_id && row.sender) {
      await rpcValue(deps.sql, "track_genesys_inbound", {
        p_integration_id: integration.integrationId,
        p_whatsapp_id: row.sender,
        p_tenant_id: row.tenant_id,
        p_phone_number_id: phoneNumberIdOf(row.metadata) ?? undefined,
        p_session_id: row.session_id ?? undefined,
        p_delivery_id: row.delivery_id,
        p_genesys_message_id: sent.id ?? row.provider_message_id ?? String(row.id),
      });
    }
    const status = await rpcValue(deps.sql, "record_genesys_post", {
      p_id: row.id,
      p_ok: sent.ok,
      p_genesys_message_id: sent.ok ? sent.id ?? undefined : undefined,
      p_error: sent.ok ? undefined : `${sent.error.code}: ${sent.error.message}`,
      p_retryable: !sent.ok && sent.error.class === "retryable",
      p_retry_after_ms: sent.ok ? undefined : sent.error.retryAfterMs,
      p_request_body: JSON.stringify(body),
      p_response_status: sent.ok ? 200 : sent.error.httpStatus ?? 0,
    });
    const fields = {
      kind: row.kind,
      attempt: row.attempts,
      integration_id: integration.integrationId,
      status,
      ...(sent.ok ? { genesys_message_id: sent.id } : {
        error_code: sent.error.code,
        error_class: sent.error.class,
      }),
    };
    if (sent.ok) log.info("GENESYS_POST_SENT", fields);
    else log[status === "failed" ? "error" : "warn"]("GENESYS_POST_FAILED", fields);
    return status;
  }

  async function round(ids?: number[]): Promise<OutboxRound> {
    const rows = await claim(deps.sql, ids, limit);
    const result: OutboxRound = { claimed: rows.length, sent: 0, retrying: 0, failed: 0 };
    const settled = await Promise.allSettled(rows.map(postOne));
    for (const s of settled) {
      if (s.status === "rejected") {
        // The row's lease runs out and it is claimed again.
        result.retrying++;
        deps.logger.error("GENESYS_POST_CRASHED", {
          error: s.reason instanceof Error ? s.reason.message : String(s.reason),
        });
      } else if (s.value === "sent") result.sent++;
      else if (s.value === "failed") result.failed++;
      else result.retrying++;
    }
    return result;
  }

  return {
    /** Sends these rows now (each at most once at a time; a row not due is left alone). */
    post: (ids: number[]) => ids.length ? round(ids) : Promise.resolve(emptyRound()),
    /** Sends the due rows, round after round, until none is left or the deadline passes. */
    async drain(deadline: number, now: () => number = Date.now): Promise<OutboxRound> {
      const total = emptyRound();
      while (now() < deadline) {
        const r = await round();
        for (const k of ["claimed", "sent", "retrying", "failed"] as const) total[k] += r[k];
        if (r.claimed < limit) break;
      }
      return total;
    },
  };
}

export type GenesysOutbox = ReturnType<typeof createGenesysOutbox>;

const emptyRound = (): OutboxRound => ({ claimed: 0, sent: 0, retrying: 0, failed: 0 });

/**
 * The person's message as Open Messaging's inbound message, with a handoff's attributes and the
 * file they sent (linked for 1 h from when it is posted).
 */
async function messageBody(row: Claimed, store: MediaStore | null) {
  const metadata = (row.metadata ?? {}) as Record<string, unknown>;
  const file = await storedAttachment(store, metadata);
  const opened = openMessageOf({
    sender: row.sender ?? "",
    providerMessageId: row.provider_message_id ?? `genesys-post:${row.id}`,
    body: row.body,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    displayName: row.display_name ?? undefined,
  });
  const message = file ? { ...opened, text: file.caption, content: [file.attachment] } : opened;
  const attributes = row.payload as Record<string, string>;
  return Object.keys(attributes).length > 0
    ? { ...message, channel: { ...message.channel, metadata: { customAttributes: attributes } } }
    : message;
}

function phoneNumberIdOf(metadata: unknown): string | null {
  const id = (metadata as { business?: { phone_number_id?: unknown } } | null)?.business
    ?.phone_number_id;
  return typeof id === "string" ? id : null;
}
