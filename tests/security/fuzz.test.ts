import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./endpoints.ts";
import { runFuzz } from "./fuzz-run.ts";

/**
 * The bounded, seeded fuzz run of CI: 2,000 validly signed requests over every webhook, tool and
 * internal endpoint, on PGlite or on the PostgreSQL at DATABASE_URL. `npm run fuzz` runs the
 * long version (scripts/fuzz.ts).
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

describe("fuzz", () => {
  it(
    "2,000 signed hostile requests over every endpoint: 0 × 5xx, no control message lost or duplicated",
    async () => {
      const report = await runFuzz(stack, { requests: 2_000, seed: 20261129 });
      expect(report.examples).toEqual([]);
      expect(report.serverErrors).toBe(0);
      expect(report.requests).toBe(2_000);
      expect(report.controls).toBeGreaterThanOrEqual(80);
      expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({
        lost: 0,
        duplicated: 0,
      });
      // Not all refused: the fuzz reaches the database.
      expect(report.byStatus["200"]).toBeGreaterThan(500);
    },
    180_000,
  );
});
