import { z } from "zod";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { validated } from "../http/validated.ts";
import { json, withErrors } from "../http/respond.ts";
import type { DrainInboxResult } from "../inbox/process-inbox.ts";
import {
  addReplies,
  noReplies,
  type ReplyDeps,
  replyOwed,
  type ReplyPendingResult,
} from "../conversations/reply-to-inbound.ts";

const Body = z.object({
  /** Owed replies taken per round (default 20). */
  limit: z.number().int().min(1).max(200).optional(),
  time_budget_ms: z.number().int().min(100).max(140_000).optional(),
}).strict();

type Drained = ReplyPendingResult & { rounds: number; derived: number };

export interface AgentWorkerDeps {
  auth: AuthConfig;
  replies: ReplyDeps;
  /**
   * The inbox worker (inbox/process-inbox.ts): derives the accepted messages and writes their
   * replies; runs before each drain's rounds over the replies still owed.
   */
  inbox?: (deadline: number) => Promise<DrainInboxResult>;
  logger: ReplyDeps["logger"];
  defaults: { limit: number; timeBudgetMs: number };
  /**
   * The time budget ran out with replies still owed: start another drain (the worker calls
   * itself, so a backlog never waits for dispatch's once-a-minute recovery).
   */
  onBacklog?: () => void;
  now?: () => number;
}

/**
 * `POST /agent-worker` (secret key, or the legacy service role): the inbox worker. Derives the
 * messages the webhooks accepted into the inbox (profiles, sessions, message rows) and writes
 * their AI replies, then the replies still owed to recorded inbound messages, round after round,
 * until none is left or the time budget is spent. The webhooks call it right after their
 * commit, so this runs in this function's isolate and pool instead of the webhook's; dispatch
 * (every minute) recovers what it never took. Inbox rows are claimed skip-locked and each reply
 * under a lease (replyToInbound), so concurrent workers never derive or answer twice.
 */
export function createAgentWorkerHandler(deps: AgentWorkerDeps) {
  const now = deps.now ?? Date.now;
  let running: Promise<Drained> | null = null;
  let again = false;

  const drain = async (limit: number, deadline: number): Promise<Drained> => {
    const total: Drained = { ...noReplies(), rounds: 0, derived: 0 };
    let more = false;
    let inboxMore = false;
    do {
      again = false;
      if (deps.inbox) {
        const inbox = await deps.inbox(deadline);
        total.derived += inbox.derived;
        total.replied += inbox.replies;
        inboxMore = inbox.more;
      }
      const owed = await replyOwed(deps.replies, { limit, deadline, now });
      addReplies(total, owed);
      total.rounds += owed.rounds;
      more = owed.more;
    } while (again && now() < deadline);
    if (more || inboxMore || again) deps.onBacklog?.();
    return total;
  };

  return withErrors(deps.logger, async (req) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    await authenticate(req, deps.auth);
    const raw = await readRawBody(req);
    const body = validated(Body, raw.byteLength ? parseJson(raw) : {});
    // One drain per isolate: a kick that arrives while one runs makes it go round once more and
    // waits for it, instead of racing it for the same rows. (A kick landing just as the drain
    // ends is answered by the next kick, or by dispatch within a minute.)
    if (running) again = true;
    else {
      const deadline = now() + (body.time_budget_ms ?? deps.defaults.timeBudgetMs);
      running = drain(body.limit ?? deps.defaults.limit, deadline).finally(() => (running = null));
    }
    return json({ replies: await running });
  });
}
