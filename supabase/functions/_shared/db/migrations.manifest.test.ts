import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MANIFEST_PATH,
  migrationIds,
  renderManifest,
} from "../../../../scripts/lib/migrations-manifest.ts";
import { EXPECTED_MIGRATIONS } from "./migrations.manifest.ts";

describe("migrations manifest", () => {
  it("lists exactly the files in supabase/migrations (run `npm run db:manifest` if not)", () => {
    const files = readdirSync("supabase/migrations");
    expect(readFileSync(MANIFEST_PATH, "utf8")).toBe(renderManifest(files));
    expect(EXPECTED_MIGRATIONS).toEqual(migrationIds(files));
    expect(EXPECTED_MIGRATIONS.length).toBeGreaterThan(0);
  });

  it("keeps only CLI-style migration files, in version order", () => {
    expect(migrationIds(["20260102000000_b.sql", "README.md", "20260101000000_a.sql", "x.sql"]))
      .toEqual(["20260101000000_a", "20260102000000_b"]);
  });
});
