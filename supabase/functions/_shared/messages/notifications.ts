import { badRequest, HttpError, methodNotAllowed } from "../http/errors.ts";
import { parseJson, readRawBody } from "../http/body.ts";
import { json } from "../http/respond.ts";
import { validated } from "../http/validated.ts";
import { toE164 } from "../phone.ts";
import { notifyAfterCall, type NotifyAfterCallDeps } from "../notifications/notify-after-call.ts";
import { acceptMessage, type MessagesDeps } from "./send-api-message.ts";
import { ChannelSpec, NotificationBody } from "./schemas.ts";

export interface NotificationsDeps extends MessagesDeps {
  /** The post-call use-case's settings (platform/deps.ts postCallConfigOf). */
  postCall: NotifyAfterCallDeps["config"];
}

interface Kind {
  event: string;
  handler: "template" | "post_call";
  template_name: string | null;
  default_locale: string;
  channels: unknown;
  params: string[];
}

/**
 * `POST /messages/notifications/{event}`: the notification kind named by the event
 * (public.notification_kinds) turns its payload into a message: its template, in the request's
 * locale or the kind's, filled from the payload fields it lists, sent like `POST /messages` (same
 * routing, idempotency and answer). `call.ended` is the post-call summary (`data.call_id`,
 * `data.summary?`), answered as `post-call-notify` answers.
 */
export async function notificationsRoute(
  deps: NotificationsDeps,
  req: Request,
  path: string[],
  ctx: { caller: string; correlationId: string },
): Promise<Response> {
  if (path.length !== 1) throw new HttpError(404, "HTTP.NOT_FOUND", "No such route");
  if (req.method !== "POST") throw methodNotAllowed(["POST"]);
  const event = path[0];
  const [kind] = await deps.sql<Kind[]>`
    select event, handler, template_name, default_locale, channels, params
    from public.notification_kinds where event = ${event} and enabled`;
  if (!kind) {
    throw new HttpError(404, "NOTIFICATION.UNKNOWN_EVENT", `No notification kind ${event}`);
  }
  const body = validated(NotificationBody, parseJson(await readRawBody(req)));
  if (kind.handler === "post_call") return await postCall(deps, body, ctx.correlationId);

  const params = kind.params.map((field) => {
    const value = body.data[field];
    if (value === undefined || value === null || typeof value === "object") {
      throw badRequest("VALIDATION.INVALID_BODY", `data.${field}: required by ${event}`, {
        field: `data.${field}`,
      });
    }
    return String(value);
  });
  const accepted = await acceptMessage(deps, {
    caller: ctx.caller,
    correlationId: ctx.correlationId,
    body: {
      to: body.to,
      channel: body.channel ?? ChannelSpec.parse(kind.channels),
      template: {
        name: kind.template_name!,
        locale: body.locale ?? kind.default_locale,
        params,
      },
      // A notification's key is its own: the same key on POST /messages is another request.
      idempotency_key: `notification:${event}:${body.idempotency_key}`,
      metadata: { ...body.metadata, event },
      ...(body.send_at ? { send_at: body.send_at } : {}),
    },
  });
  return json(accepted.body, 202);
}

async function postCall(deps: NotificationsDeps, body: NotificationBody, correlationId: string) {
  const callId = body.data.call_id;
  if (typeof callId !== "string" || callId.trim() === "" || callId.length > 200) {
    throw badRequest("VALIDATION.INVALID_BODY", "data.call_id: required by call.ended", {
      field: "data.call_id",
    });
  }
  const phone = body.to.phone ? toE164(body.to.phone, deps.defaultCountry) : null;
  if (!phone) {
    throw badRequest("VALIDATION.INVALID_PHONE", "to.phone: call.ended needs the caller's phone", {
      field: "to.phone",
    });
  }
  const summary = typeof body.data.summary === "string" ? body.data.summary.trim() : null;
  const result = await notifyAfterCall({ ...deps, config: deps.postCall }, {
    callId: callId.trim(),
    phoneNumber: phone,
    summary: summary || null,
    correlationId,
  });
  return json(result);
}
