import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { replierOf } from "../conversations/reply-to-inbound.ts";
import { createResendAdapter } from "../channels/email-resend.ts";
import { createEmailInboundHandler } from "./handler.ts";

/** `email-inbound` built from the validated environment (functions/email-inbound/index.ts serves it). */
export function emailInbound({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "email-inbound");
  return createEmailInboundHandler({
    ...outbound,
    email: createResendAdapter({
      baseUrl: env.RESEND_API_BASE_URL,
      apiKey: env.RESEND_API_KEY,
      from: env.EMAIL_FROM,
    }, { fetch: platform.fetch, timeoutMs: env.PROVIDER_TIMEOUT_MS }),
    webhookSecret: env.RESEND_WEBHOOK_SECRET,
    waitUntil,
    onInbound: replierOf(platform, outbound),
  });
}
