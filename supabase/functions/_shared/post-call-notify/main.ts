import { postCallConfigOf } from "../platform/deps.ts";
import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createPostCallNotifyHandler } from "./handler.ts";

/** `post-call-notify` built from the validated environment. */
export function postCallNotify({ env }: Runtime) {
  const { outbound, auth } = sendingFunction(env, "post-call-notify");
  return createPostCallNotifyHandler({
    ...outbound,
    auth,
    defaultCountry: env.DEFAULT_COUNTRY,
    config: postCallConfigOf(env),
  });
}
