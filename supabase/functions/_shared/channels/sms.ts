import type { Env } from "../config.ts";
import { createMtnSmsAdapter } from "./sms-mtn.ts";
import { createTwilioSmsAdapter, twilioStatusCallbackUrl } from "./sms-twilio.ts";
import type { AdapterOptions, SmsAdapter } from "../outbound/adapter.ts";

/** The SMS adapter `SMS_PROVIDER` names; missing credentials fail closed at send time. */
export function createSmsAdapter(env: Env, opts: AdapterOptions = {}): SmsAdapter {
  switch (env.SMS_PROVIDER) {
    case "mtn":
      return createMtnSmsAdapter({
        baseUrl: env.MTN_SMS_API_BASE_URL,
        apiKey: env.MTN_SMS_API_KEY,
        apiSecret: env.MTN_SMS_API_SECRET,
        senderId: env.MTN_SMS_SENDER_ID,
      }, opts);
    case "twilio":
      return createTwilioSmsAdapter({
        baseUrl: env.TWILIO_API_BASE_URL,
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        from: env.TWILIO_FROM_NUMBER,
        statusCallbackUrl: twilioStatusCallbackUrl(env.PUBLIC_FUNCTIONS_URL),
      }, opts);
  }
}
