import { defineConfig } from "vitest/config";

// Test tiers (tests/README.md), each runnable alone: `npm run test:unit|test:db|test:e2e`.
// A new test file lands in the unit tier unless listed below; one that needs a database fails
// there with a clear error until it is added to `db`.

/** Tests that spawn the Supabase CLI against a migrated database. */
const e2e = [
  "supabase/tests/cli-push.test.ts",
  "supabase/tests/cron-push.test.ts",
  "supabase/tests/types-drift.test.ts",
];

/** Tests on a real database (PGlite, or PostgreSQL with DATABASE_URL). */
const db = [
  "supabase/tests/*.test.ts",
  "supabase/functions/_shared/health/check-health.test.ts",
  "supabase/functions/_shared/tools/messaging-tools.test.ts",
  "tests/ai/{agent,reply-to-inbound}.test.ts",
  "tests/dispatch/*.test.ts",
  "tests/lib/pglite-server.test.ts",
  "tests/messaging-tools/*.test.ts",
  "tests/post-call/*.test.ts",
  "tests/sms-inbound/{inbound,keywords,properties,status}.test.ts",
  "tests/stack/housekeeping.test.ts",
  "tests/wa-webhook/*.test.ts",
];

const all = ["supabase/**/*.test.ts", "tests/**/*.test.ts"];
const never = ["node_modules/**", "supabase/functions/tests/**"];
const globalSetup = ["tests/support/global-setup.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "unit", include: all, exclude: [...never, ...db, ...e2e] },
      },
      {
        extends: true,
        test: { name: "db", include: db, exclude: [...never, ...e2e], globalSetup },
      },
      { extends: true, test: { name: "e2e", include: e2e, exclude: never, globalSetup } },
    ],
  },
});
