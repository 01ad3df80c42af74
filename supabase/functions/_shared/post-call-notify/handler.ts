import { z } from "zod";
import { authenticate, type AuthConfig } from "../http/auth.ts";
import { readRawBody, parseJson } from "../http/body.ts";
import { badRequest, methodNotAllowed, serviceUnavailable } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { toE164 } from "../phone.ts";
import { notifyAfterCall, type NotifyAfterCallDeps } from "../notifications/notify-after-call.ts";

const Body = z.object({
  call_id: z.string().trim().min(1).max(200),
  phone_number: z.string().trim().min(3).max(32),
  summary: z.string().trim().max(20_000).nullish(),
});

export interface PostCallNotifyDeps extends NotifyAfterCallDeps {
  auth: AuthConfig;
  defaultCountry: string;
}

/** `POST /post-call-notify {call_id, phone_number, summary?}` — secret key (or legacy service role) only. */
export function createPostCallNotifyHandler(deps: PostCallNotifyDeps) {
  return withErrors(deps.logger, async (req, correlationId) => {
    if (req.method !== "POST") throw methodNotAllowed(["POST"]);
    await authenticate(req, deps.auth);
    const parsed = Body.safeParse(parseJson(await readRawBody(req)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest("VALIDATION.INVALID_BODY", `${issue.path.join(".") || "body"}: ${issue.message}`, {
        field: issue.path.join(".") || undefined,
      });
    }
    const phone = toE164(parsed.data.phone_number, deps.defaultCountry);
    if (!phone) {
      throw badRequest("VALIDATION.INVALID_PHONE", "phone_number is not a valid phone number", {
        field: "phone_number",
      });
    }
    try {
      const result = await notifyAfterCall(deps, {
        callId: parsed.data.call_id,
        phoneNumber: phone,
        summary: parsed.data.summary || null,
        correlationId,
      });
      return json(result);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw serviceUnavailable();
      throw err;
    }
  });
}
