import { describe, expect, it } from "vitest";
import { parsePushLine, withSslDisabled } from "../../scripts/stack/push-output.ts";

// Lines as `supabase db push --db-url … --yes` (CLI 3.1.0) writes them.
describe("parsePushLine", () => {
  it("reads the plan, each migration as it starts, and the up-to-date answer", () => {
    expect(
      parsePushLine("Confirmed by --yes: Apply 3 migrations on custom Postgres (127.0.0.1:54322)"),
    )
      .toEqual({ kind: "plan", total: 3 });
    expect(
      parsePushLine("Confirmed by --yes: Apply 1 migration on custom Postgres (127.0.0.1:54322)"),
    )
      .toEqual({ kind: "plan", total: 1 });
    expect(
      parsePushLine("Applying migration 20261122010000_omnichannel_notification_system.sql..."),
    )
      .toEqual({ kind: "applying", migration: "20261122010000_omnichannel_notification_system" });
    expect(parsePushLine("Remote database is up to date.")).toEqual({ kind: "up-to-date" });
  });

  it("treats the CLI's notes about itself as noise and keeps errors as output", () => {
    expect(
      parsePushLine(
        "Warning: --db-url is deprecated and will be removed in v4. Use --remote=<db-url> instead",
      ).kind,
    )
      .toBe("noise");
    expect(parsePushLine("Target: custom Postgres (127.0.0.1:54322)").kind).toBe("noise");
    expect(parsePushLine('ERROR: role "service_role" does not exist (SQLSTATE 42704)'))
      .toEqual({
        kind: "output",
        line: 'ERROR: role "service_role" does not exist (SQLSTATE 42704)',
      });
  });
});

describe("withSslDisabled", () => {
  it("adds sslmode=disable unless the URL has an sslmode", () => {
    expect(withSslDisabled("postgresql://postgres:postgres@127.0.0.1:54322/postgres"))
      .toBe("postgresql://postgres:postgres@127.0.0.1:54322/postgres?sslmode=disable");
    expect(withSslDisabled("postgres://u@h:5432/db?sslmode=require")).toBe(
      "postgres://u@h:5432/db?sslmode=require",
    );
  });
});
