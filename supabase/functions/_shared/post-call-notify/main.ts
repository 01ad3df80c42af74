import { authOf } from "../http/function-auth.ts";
import { channelsOf, createPlatform, postCallConfigOf } from "../platform/deps.ts";
import type { Runtime } from "../platform/runtime.ts";
import { createPostCallNotifyHandler } from "./handler.ts";

/** `post-call-notify` built from the validated environment. */
export function postCallNotify({ env }: Runtime) {
  const platform = createPlatform(env, "post-call-notify");
  return createPostCallNotifyHandler({
    ...platform,
    ...channelsOf(platform),
    auth: authOf("post-call-notify", env),
    defaultCountry: env.DEFAULT_COUNTRY,
    config: postCallConfigOf(env),
  });
}
