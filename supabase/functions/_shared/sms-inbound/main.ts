import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createReplyDeps, replyingWith } from "../conversations/reply-to-inbound.ts";
import { inboxWorkerOf } from "../inbox/process-inbox.ts";
import { afterAccept, agentWorkerKickOf } from "../agent-worker/kick.ts";
import { createSmsInboundHandler } from "./handler.ts";

/** `sms-inbound` built from the validated environment (functions/sms-inbound/index.ts serves it). */
export function smsInbound({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "sms-inbound");
  // One reply path (agent, caches) for the isolate: the inbox worker and the keyword fallback.
  const replies = createReplyDeps(platform, outbound);
  return createSmsInboundHandler({
    ...outbound,
    defaultCountry: env.DEFAULT_COUNTRY,
    waitUntil,
    // Accepted messages are derived and answered by the agent-worker function, off this request
    // path and pool; here only when the worker cannot be reached.
    onAccepted: afterAccept(
      agentWorkerKickOf(env, platform.logger),
      inboxWorkerOf(replies),
    ),
    onInbound: replyingWith(replies),
    webhook: {
      mtnSecret: env.MTN_WEBHOOK_SECRET,
      twilioAuthToken: env.TWILIO_AUTH_TOKEN,
      publicFunctionsUrl: env.PUBLIC_FUNCTIONS_URL,
    },
  });
}
