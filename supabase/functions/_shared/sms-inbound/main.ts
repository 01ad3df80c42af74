import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { replierOf } from "../conversations/reply-to-inbound.ts";
import { createSmsInboundHandler } from "./handler.ts";

/** `sms-inbound` built from the validated environment (functions/sms-inbound/index.ts serves it). */
export function smsInbound({ env, waitUntil }: Runtime) {
  const { platform, outbound } = sendingFunction(env, "sms-inbound");
  return createSmsInboundHandler({
    ...outbound,
    defaultCountry: env.DEFAULT_COUNTRY,
    waitUntil,
    onInbound: replierOf(platform, outbound),
    webhook: {
      mtnSecret: env.MTN_WEBHOOK_SECRET,
      twilioAuthToken: env.TWILIO_AUTH_TOKEN,
      publicFunctionsUrl: env.PUBLIC_FUNCTIONS_URL,
    },
  });
}
