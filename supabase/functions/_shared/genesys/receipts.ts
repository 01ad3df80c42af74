import type { Sql } from "../db/client.ts";
import { rpc } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { GenesysClient, OpenReceiptStatus } from "../channels/genesys.ts";
import type { StatusUpdate } from "../outbound/delivery-status.ts";
import type { GenesysAccount } from "../tenants/accounts.ts";

export interface ReceiptDeps {
  sql: Sql;
  logger: Logger;
  genesys: GenesysClient;
  integration(integrationId: string): Promise<GenesysAccount | null>;
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
 * (`…/inbound/open/receipt`). Rows that are not an agent's message are left alone.
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
    const sent = await deps.genesys.sendReceipt(integration, {
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
    log[sent.ok ? "info" : "warn"]("GENESYS_RECEIPT_SENT", {
      status,
      ...(sent.ok ? {} : { error_code: sent.error.code }),
    });
  };
}
