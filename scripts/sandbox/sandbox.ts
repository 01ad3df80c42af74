import { SANDBOX_CREDENTIALS } from "../stack/sandbox-env.ts";
import { FaultBook, FaultSchema } from "./faults.ts";
import { json } from "./http.ts";
import { MessageStore } from "./messages.ts";
import { mtn } from "./mtn.ts";
import type { ProviderEndpoint, SandboxContext, SandboxCredentials } from "./provider.ts";
import { twilio } from "./twilio.ts";
import { whatsapp } from "./whatsapp.ts";

export type { SandboxMessage } from "./messages.ts";
export type { SandboxCredentials } from "./provider.ts";

export interface SandboxOptions {
  credentials?: Partial<SandboxCredentials>;
  now?: () => Date;
}

export interface Sandbox {
  /** A plain fetch handler: Deno.serve it, or serve it from Node tests (tests/support/serve.ts). */
  handler: (req: Request) => Promise<Response>;
  messages: MessageStore;
  faults: FaultBook;
}

const PROVIDERS: ProviderEndpoint[] = [whatsapp, mtn, twilio];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The provider sandbox: speaks each provider's wire format under `/<provider>/…`, records every
 * message it accepts, and has a control API under `/__sandbox/`:
 * - `GET /__sandbox/messages[?provider=&channel=&to=]`, `DELETE /__sandbox/messages`
 * - `POST /__sandbox/faults` {provider, mode, status?, body?, delay_ms?, count?},
 *   `GET /__sandbox/faults`, `DELETE /__sandbox/faults`
 */
export function createSandbox(opts: SandboxOptions = {}): Sandbox {
  const messages = new MessageStore();
  const faults = new FaultBook();
  const ctx: SandboxContext = {
    messages,
    credentials: { ...SANDBOX_CREDENTIALS, ...opts.credentials },
    now: opts.now ?? (() => new Date()),
  };

  async function control(req: Request, url: URL): Promise<Response> {
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /__sandbox/messages":
        return json(messages.list({
          provider: url.searchParams.get("provider") ?? undefined,
          channel: url.searchParams.get("channel") ?? undefined,
          to: url.searchParams.get("to") ?? undefined,
        }));
      case "DELETE /__sandbox/messages":
        return json({ deleted: messages.clear() });
      case "GET /__sandbox/faults":
        return json(faults.list());
      case "DELETE /__sandbox/faults":
        faults.clear();
        return json({ cleared: true });
      case "POST /__sandbox/faults": {
        const parsed = FaultSchema.safeParse(await req.json().catch(() => undefined));
        if (!parsed.success) return json({ error: parsed.error.issues }, 400);
        if (!PROVIDERS.some((p) => p.name === parsed.data.provider)) {
          return json({ error: `unknown provider; one of ${PROVIDERS.map((p) => p.name)}` }, 400);
        }
        faults.set(parsed.data);
        return json({ faults: faults.list() }, 201);
      }
    }
    return json({ error: "not found" }, 404);
  }

  async function provider(req: Request, p: ProviderEndpoint, path: string): Promise<Response> {
    const fault = faults.take(p.name);
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    if (fault?.mode === "fail") {
      const status = fault.status ?? 500;
      return fault.body === undefined ? p.failure(status) : json(fault.body, status);
    }
    return await p.handle(req, path, ctx);
  }

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/__sandbox/")) return await control(req, url);
    const [, name] = url.pathname.match(/^\/([^/]+)/) ?? [];
    const p = PROVIDERS.find((p) => p.name === name);
    if (p) return await provider(req, p, url.pathname.slice(name.length + 1));
    if (url.pathname === "/") {
      return json({
        sandbox: "local provider sandbox",
        providers: PROVIDERS.map((p) => `/${p.name}/`),
        messages: "/__sandbox/messages",
        faults: "/__sandbox/faults",
      });
    }
    return json({ error: "not found" }, 404);
  };

  return { handler, messages, faults };
}
