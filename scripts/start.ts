/**
 * `npm start`: the whole stack on this machine (see scripts/stack/stack.ts), until Ctrl-C.
 */
import { MigrationError } from "./stack/migrations.ts";
import { PortInUseError } from "./stack/ports.ts";
import { parseArgs } from "node:util";
import { PublicSecretError } from "./stack/secret-guard.ts";
import { removeStackFile, writeStackFile } from "./stack/stack-file.ts";
import { redact, ROOT, type Stack, type StackOptions, startStack } from "./stack/stack.ts";

function banner(stack: Stack): string {
  const { urls, keys } = stack;
  return [
    "",
    "Omnichannel stack is running.",
    "",
    `  Functions   ${urls.functions}/<name>`,
    `  Database    ${redact(urls.db)}`,
    `  Console     ${urls.console}`,
    `  Sandbox     ${urls.sandbox}   (received messages: ${urls.sandbox}/__sandbox/messages)`,
    "",
    `  publishable key   ${keys.publishable}`,
    `  secret key        ${keys.secret}`,
    ...(stack.legacyKeys
      ? [
        `  anon key          ${keys.anon}   (legacy)`,
        `  service_role key  ${keys.serviceRole}   (legacy)`,
      ]
      : ["  legacy anon/service_role keys: disabled (LEGACY_API_KEYS=reject)"]),
    "",
    "  Try:",
    `    curl ${urls.functions}/health`,
    `    curl -X POST -H "apikey: ${keys.secret}" ${urls.functions}/dispatch`,
    "",
    "Ctrl-C stops everything.",
  ].join("\n");
}

const USAGE = `npm start [-- --port-base N] [-- --data-dir DIR]

  --port-base N   functions on N, database N+1, console N+2, sandbox N+3 (default 54321)
  --data-dir DIR  the embedded database's data (default .data/pglite; memory:// for a throwaway)`;

function options(args: string[]): StackOptions {
  const { values } = parseArgs({
    args,
    options: {
      "port-base": { type: "string" },
      "data-dir": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const base = values["port-base"] === undefined ? undefined : Number(values["port-base"]);
  if (base !== undefined && !(Number.isInteger(base) && base > 0 && base < 65533)) {
    throw new Error(`--port-base must be a port number, got ${values["port-base"]}`);
  }
  return {
    ...(base
      ? { ports: { functions: base, db: base + 1, console: base + 2, sandbox: base + 3 } }
      : {}),
    ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
  };
}

// A signal during the start is honoured once whatever started is up (startStack has no abort);
// npm runs this script with `exec`, so its SIGINT/SIGTERM reach this process.
let stack: Stack | undefined;
let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  if (!stack) return console.log(`\n${signal}: stopping once the start has finished...`);
  console.log(`\n${signal}: stopping functions, servers and the database...`);
  await removeStackFile(ROOT);
  await stack.stop();
  console.log("stopped.");
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));

try {
  stack = await startStack(options(Deno.args));
} catch (err) {
  if (
    err instanceof PortInUseError || err instanceof MigrationError ||
    err instanceof PublicSecretError
  ) {
    console.error(`\n${err.message}`);
  } else console.error("\nThe stack did not start:", err instanceof Error ? err.message : err);
  Deno.exit(1);
}
if (stopping) {
  stopping = false;
  await shutdown("stop requested during the start");
} else {
  const { urls } = stack;
  await writeStackFile(ROOT, {
    pid: Deno.pid,
    api: urls.api,
    sandbox: urls.sandbox,
    console: urls.console,
    db: urls.db,
  });
  console.log(banner(stack));
}
