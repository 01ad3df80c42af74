import { z } from "zod";
import { type AuthConfig, authenticate } from "../http/auth.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { badRequest, methodNotAllowed } from "../http/errors.ts";
import { json, withErrors } from "../http/respond.ts";
import { validated } from "../http/validated.ts";
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
    const body = validated(Body, parseJson(await readRawBody(req)));
    const phone = toE164(body.phone_number, deps.defaultCountry);
    if (!phone) {
      throw badRequest("VALIDATION.INVALID_PHONE", "phone_number is not a valid phone number", {
        field: "phone_number",
      });
    }
    const result = await notifyAfterCall(deps, {
      callId: body.call_id,
      phoneNumber: phone,
      summary: body.summary || null,
      correlationId,
    });
    return json(result);
  });
}
