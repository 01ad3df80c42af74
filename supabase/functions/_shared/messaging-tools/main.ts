import { type Runtime, sendingFunction } from "../platform/runtime.ts";
import { createMessagingToolsHandler } from "./handler.ts";

/** `messaging-tools` built from the validated environment. */
export function messagingTools({ env }: Runtime) {
  const { outbound, auth } = sendingFunction(env, "messaging-tools");
  return createMessagingToolsHandler({ ...outbound, auth });
}
