import type { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import type { MessageStore } from "./messages.ts";

export type SandboxCredentials = { -readonly [K in keyof typeof SANDBOX_CREDENTIALS]: string };

export interface SandboxContext {
  messages: MessageStore;
  credentials: SandboxCredentials;
  now: () => Date;
}

/**
 * One provider the sandbox impersonates: requests under `/<name>/…` reach `handle` with the rest
 * of the path. `failure` is the provider's own error shape, used when a fault gives no body.
 */
export interface ProviderEndpoint {
  name: string;
  handle(req: Request, path: string, ctx: SandboxContext): Promise<Response>;
  failure(status: number): Response;
}
