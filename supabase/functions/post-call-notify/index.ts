import { serveFunction } from "../_shared/platform/serve.ts";
import { loadConfig } from "../_shared/config.ts";
import { authOf } from "../_shared/http/function-auth.ts";
import { channelsOf, createPlatform, postCallConfigOf } from "../_shared/platform/deps.ts";
import { createPostCallNotifyHandler } from "../_shared/post-call-notify/handler.ts";

const platform = createPlatform(loadConfig(Deno.env.toObject()), "post-call-notify");
const { env } = platform;

const handler = createPostCallNotifyHandler({
  ...platform,
  ...channelsOf(platform),
  auth: authOf("post-call-notify", env),
  defaultCountry: env.DEFAULT_COUNTRY,
  config: postCallConfigOf(env),
});

serveFunction(handler);
