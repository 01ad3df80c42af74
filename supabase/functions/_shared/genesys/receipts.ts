import type { Sql } from "../db/client.ts";
import { rpc, rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { OpenReceipt, OpenReceiptStatus } from "../channels/genesys.ts";
import type { StatusUpdate } from "../outbound/delivery-status.ts";
import type { GenesysAccount } from "../tenants/accounts.ts";
import type { GenesysOutbox } from "./outbox.ts";

export interface ReceiptDeps {
  sql: Sql;
  logger: Logger;
  outbox: Pick<GenesysOutbox, "post">;
  integration(integrationId: string): Promise<GenesysAccount | null>;
}

/**
 * A receipt owed to Genesys, as a row of public.genesys_outbox (one per message and status), and
 * posted now; a 429/5xx/timeout is retried by the dispatch tick like any post.
 */
export async function sendReceiptDurably(
  deps: Pick<ReceiptDeps, "sql" | "outbox">,
  integration: GenesysAccount,
  receipt: OpenReceipt,
): Promise<void> {
  const id = await rpcValue(deps.sql, "enqueue_genesys_post", {
    p_tenant_id: integration.tenantId,
    p_kind: "receipt",
    p_dedupe_key: `receipt:${integration.integrationId}:${receipt.id}:${receipt.status}`,
    p_payload: receipt as unknown as Record<string, string>,
    p_integration_id: integration.integrationId,
  });
  await deps.outbox.post([Number(id)]);
}

/** WhatsApp's statuses as Open Messaging receipts; `sent` is not one (Genesys shows it as sent). */
const RECEIPT: Partial<Record<StatusUpdate["status"], OpenReceiptStatus>> = {
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
};

/**
 * Tells Genesys what became of an agent's message on WhatsApp: the row's status (delivered,
 * read, failed with WhatsApp's reason) as a receipt for the Genesys message id it was sent for
 * (`…/inbound/open/receipt`), through the outbox (retried, never doubled). Rows that are not
 * an agent's message are left alone.
 */
export function createReceiptForwarder(deps: ReceiptDeps) {
  return async (deliveryId: string, update: StatusUpdate): Promise<void> => {
    const status = RECEIPT[update.status];
    if (!status) return;
    const [tracked] = await rpc(deps.sql, "genesys_message_of_delivery", {
      p_delivery_id: deliveryId,
    });
    if (!tracked) return;
    const log = deps.logger.child({
      delivery_id: deliveryId,
      integration_id: tracked.integration_id,
      genesys_message_id: tracked.genesys_message_id,
    });
    const integration = await deps.integration(tracked.integration_id);
    if (!integration) {
      log.warn("GENESYS_INTEGRATION_UNKNOWN");
      return;
    }
    await sendReceiptDurably(deps, integration, {
      id: tracked.genesys_message_id,
      channel: {
        to: { id: tracked.whatsapp_id ?? "", idType: "Phone" },
        time: new Date().toISOString(),
      },
      status,
      ...(status === "Failed"
        ? {
          reasons: [{
            code: update.errorClass === "window_closed" ? "MessageExpired" : "GeneralError",
            message: update.errorMessage ?? "WhatsApp could not deliver the message",
          }],
        }
        : {}),
      direction: "Outbound",
      isFinalReceipt: status !== "Delivered",
    });
    log.info("GENESYS_RECEIPT_OWED", { status });
  };
}
