import { z } from "zod";
import { authenticate, type AuthConfig } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, methodNotAllowed, serviceUnavailable } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { type ReplyDeps, replyPending, type ReplyPendingResult } from "../conversations/reply-to-inbound.ts";

const Body = z.object({
  /** Owed replies taken per round (default 20). */
  limit: z.number().int().min(1).max(200).optional(),
  time_budget_ms: z.number().int().min(100).max(140_000).optional(),
}).strict();

export interface AgentWorkerDeps {
  auth: AuthConfig;
  replies: ReplyDeps;
  logger: ReplyDeps["logger"];
  defaults: { limit: number; timeBudgetMs: number };
  now?: () => number;
}

/**
 * `POST /agent-worker` (secret key, or the legacy service role): writes the AI replies owed to
 * recorded inbound messages, round after round, until none is left or the time budget is spent.
 * The webhooks call it right after their commit, so replies run in this function's isolate and
 * pool instead of the webhook's; dispatch (every minute) recovers what it never took. Each reply
 * is claimed under a lease (replyToInbound), so concurrent workers never answer twice.
 */
export function createAgentWorkerHandler(deps: AgentWorkerDeps) {
  const now = deps.now ?? Date.now;
  return withErrors(deps.logger, async (req) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    await authenticate(req, deps.auth);
    const raw = await readRawBody(req);
    const parsed = Body.safeParse(raw.byteLength ? parseJson(raw) : {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest("VALIDATION.INVALID_BODY", `${issue.path.join(".") || "body"}: ${issue.message}`);
    }
    const limit = parsed.data.limit ?? deps.defaults.limit;
    const deadline = now() + (parsed.data.time_budget_ms ?? deps.defaults.timeBudgetMs);
    const total: ReplyPendingResult & { rounds: number } = {
      found: 0, replied: 0, fallback: 0, notClaimed: 0, failed: 0, rounds: 0,
    };
    try {
      while (now() < deadline) {
        const round = await replyPending(deps.replies, { olderThanSeconds: 0, limit });
        total.rounds++;
        for (const k of ["found", "replied", "fallback", "notClaimed", "failed"] as const) total[k] += round[k];
        // Only rows others had already claimed: they are being answered; nothing more to take.
        if (round.found === 0 || round.notClaimed === round.found) break;
      }
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw serviceUnavailable();
      throw err;
    }
    return json({ replies: total });
  });
}
