/**
 * The stack the browser tier drives: every function, a throwaway database, free ports, no
 * credentials (every provider is the sandbox). Prints one JSON line with the URLs and the
 * service-role key, then runs until its standard input closes or it gets SIGTERM/SIGINT, and
 * stops the stack (functions, servers, database) before it exits.
 */
import { runtimeOnly } from "../../scripts/stack/function-env.ts";
import { freePorts } from "../../scripts/stack/ports.ts";
import { startStack } from "../../scripts/stack/stack.ts";

const stack = await startStack({
  ports: freePorts(),
  dataDir: "memory://",
  env: runtimeOnly(Deno.env.toObject()),
  dotenv: false,
  quiet: true,
});
console.log(JSON.stringify({ urls: stack.urls, serviceRole: stack.keys.serviceRole }));

let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= stack.stop().then(() => Deno.exit(0)));
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
for await (const _ of Deno.stdin.readable) { /* the test holds stdin open while it runs */ }
await stop();
