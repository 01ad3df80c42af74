import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["supabase/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["node_modules/**", "supabase/functions/tests/**", "tests/browser/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["tests/support/global-db.ts"],
  },
});
