import { rpc } from "../db/rpc.ts";
import { notifyAfterCall, type NotifyAfterCallDeps } from "./notify-after-call.ts";

export interface RecoverCallsResult {
  found: number;
  notified: number;
  failed: number;
}

/**
 * The retry path for WhatsApp calls that ended but whose post-call flow never ran (the process
 * died after the webhook's 200): each runs the same use-case, which sends once per call id.
 */
export async function recoverUnnotifiedCalls(
  deps: NotifyAfterCallDeps,
  opts: { olderThanSeconds: number; limit: number; correlationId: string },
): Promise<RecoverCallsResult> {
  const calls = await rpc(deps.sql, "list_unnotified_calls", {
    p_older_than_seconds: opts.olderThanSeconds,
    p_max_age_seconds: 86_400,
    p_limit: opts.limit,
  });
  const result: RecoverCallsResult = { found: calls.length, notified: 0, failed: 0 };
  for (const c of calls) {
    try {
      await notifyAfterCall(deps, {
        callId: c.call_id,
        phoneNumber: c.phone_number,
        correlationId: opts.correlationId,
      });
      result.notified++;
    } catch (err) {
      result.failed++;
      deps.logger.error("POST_CALL_RECOVERY_FAILED", {
        call_id: c.call_id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (calls.length > 0) deps.logger.info("POST_CALL_RECOVERY_DONE", { ...result });
  return result;
}
