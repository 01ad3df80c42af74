import { defineConfig } from "vitest/config";

// The browser tier (npm run test:browser): the console in a real Chromium, on a real stack.
export default defineConfig({
  test: {
    include: ["tests/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    pool: "forks",
  },
});
