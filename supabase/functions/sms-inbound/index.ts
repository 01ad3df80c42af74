import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { channelsOf, createPlatform } from "../_shared/platform/deps.ts";
import { backgroundTracker, type WaitUntil } from "../_shared/platform/background.ts";
import { createReplyDeps, replyToInbound } from "../_shared/conversations/reply-to-inbound.ts";
import { createSmsInboundHandler } from "../_shared/sms-inbound/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "sms-inbound");
const { env } = platform;
const channels = channelsOf(platform);
const replyDeps = createReplyDeps(platform, channels);
// deno-lint-ignore no-explicit-any
const edge = (globalThis as any).EdgeRuntime;
const waitUntil: WaitUntil = edge?.waitUntil?.bind(edge) ?? backgroundTracker().waitUntil;

const handler = createSmsInboundHandler({
  ...platform,
  sms: channels.sms,
  defaultCountry: env.DEFAULT_COUNTRY,
  waitUntil,
  onInbound: async (inbound) => {
    await replyToInbound(replyDeps, inbound);
  },
  webhook: {
    mtnSecret: env.MTN_WEBHOOK_SECRET,
    twilioAuthToken: env.TWILIO_AUTH_TOKEN,
    publicFunctionsUrl: env.PUBLIC_FUNCTIONS_URL,
  },
});

serveFunction(handler);
