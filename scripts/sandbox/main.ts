/**
 * The provider sandbox as its own process, as the local stack runs it (scripts/stack/stack.ts
 * starts it and stops it with the stack): it listens on 127.0.0.1:SANDBOX_PORT, plays the
 * providers' APIs, and posts inbound messages and status callbacks, signed, to
 * SANDBOX_FUNCTIONS_URL. Its own process, so the providers' side of a benchmark or a demo never
 * shares a thread with the gateway it calls through. Its control API (`/__sandbox/...`, see
 * scripts/sandbox/client.ts) is how the stack, the tests and the CLI read and steer it.
 *
 * Environment: SANDBOX_PORT (required), SANDBOX_FUNCTIONS_URL, SANDBOX_PUBLIC_FUNCTIONS_URL,
 * SANDBOX_SMS_PROVIDER (mtn | twilio), SANDBOX_MAX_MESSAGES, SANDBOX_MAX_BYTES.
 */
import { limitsFromEnv } from "./messages.ts";
import { createSandbox } from "./sandbox.ts";

const env = Deno.env.toObject();
const port = Number(env.SANDBOX_PORT);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`SANDBOX_PORT must be a port number, not ${env.SANDBOX_PORT}`);
  Deno.exit(2);
}
const sandbox = createSandbox({
  functionsUrl: env.SANDBOX_FUNCTIONS_URL || undefined,
  publicFunctionsUrl: env.SANDBOX_PUBLIC_FUNCTIONS_URL || undefined,
  smsProvider: env.SANDBOX_SMS_PROVIDER === "twilio" ? "twilio" : "mtn",
  log: (line) => console.log(line),
  limits: limitsFromEnv(env),
});
const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, sandbox.handler);

let stopping: Promise<void> | undefined;
const stop = () =>
  stopping ??= (async () => {
    await sandbox.close();
    // In-flight requests get a moment; a stuck stream does not hold up the shutdown.
    await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 2000))]);
    Deno.exit(0);
  })();
// SIGTERM is the stack stopping it; Ctrl-C (SIGINT to the whole group) ends it as it ends the
// functions.
Deno.addSignalListener("SIGTERM", stop);
