/**
 * `npm start`: the whole stack on this machine (see scripts/stack/stack.ts), until Ctrl-C.
 */
import { MigrationError } from "./stack/migrations.ts";
import { PortInUseError } from "./stack/ports.ts";
import { PublicSecretError } from "./stack/secret-guard.ts";
import { redact, type Stack, startStack } from "./stack/stack.ts";

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

let stack: Stack;
try {
  stack = await startStack();
} catch (err) {
  if (err instanceof PortInUseError || err instanceof MigrationError || err instanceof PublicSecretError) {
    console.error(`\n${err.message}`);
  } else console.error("\nThe stack did not start:", err instanceof Error ? err.message : err);
  Deno.exit(1);
}
console.log(banner(stack));

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping functions, servers and the database...`);
  await stack.stop();
  console.log("stopped.");
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
