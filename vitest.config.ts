import { defineConfig } from "vitest/config";

// Test tiers (tests/README.md), each runnable alone: `npm run test:unit|test:db|test:e2e`.
// A new file under tests/ or supabase/tests/ lands in the db tier (works with or without a
// database); a new _shared/ unit test lands in unit, and fails there with a clear error if it
// needs a database until it is listed in `dbInShared`.

/** Tests that spawn the Supabase CLI against a migrated database. */
const e2e = [
  "supabase/tests/cli-push.test.ts",
  "supabase/tests/cron-push.test.ts",
  "supabase/tests/types-drift.test.ts",
];

/** _shared/ tests that need a database. */
const dbInShared = [
  "supabase/functions/_shared/health/handler.test.ts",
  "supabase/functions/_shared/tools/messaging.test.ts",
];

/** No database, outside _shared/: the sandbox, the local stack's pieces, project checks. */
const unitOutsideShared = [
  "tests/ai/scripted-model.test.ts",
  "tests/project/*.test.ts",
  "tests/sandbox/*.test.ts",
  "tests/sms-inbound/{parsers,twilio-signature}.test.ts",
  "tests/stack/{env,gateway,jwt,push-output}.test.ts",
];

const never = ["node_modules/**", "supabase/functions/tests/**", "tests/browser/**"];
const globalSetup = ["tests/support/global-setup.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on a database or a local HTTP server, not the CPU: three workers on two
    // cores finish the suite in about 60 % of the time one worker (vitest's default there) takes.
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["supabase/functions/_shared/**/*.test.ts", ...unitOutsideShared],
          exclude: [...never, ...dbInShared],
        },
      },
      {
        extends: true,
        test: {
          name: "db",
          include: ["supabase/tests/*.test.ts", "tests/**/*.test.ts", ...dbInShared],
          exclude: [...never, ...unitOutsideShared, ...e2e],
          globalSetup,
        },
      },
      { extends: true, test: { name: "e2e", include: e2e, exclude: never, globalSetup } },
    ],
  },
});
