import { describe, expect, it } from "vitest";
import { preparedStatementsAllowed } from "./client.ts";

describe("preparedStatementsAllowed", () => {
  it("prepares on a direct connection and the session pooler", () => {
    expect(preparedStatementsAllowed("postgres://postgres@127.0.0.1:5432/postgres")).toBe(true);
    expect(
      preparedStatementsAllowed(
        "postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres",
      ),
    ).toBe(true);
  });

  it("never prepares through Supabase's transaction-mode pooler or a URL marked pgbouncer=true", () => {
    expect(
      preparedStatementsAllowed(
        "postgresql://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres",
      ),
    ).toBe(false);
    expect(preparedStatementsAllowed("postgres://u:p@db.example:6432/app?pgbouncer=true")).toBe(
      false,
    );
  });

  it("obeys DB_PREPARE=on/off whatever the URL", () => {
    expect(preparedStatementsAllowed("postgres://u@h:6543/db", "on")).toBe(true);
    expect(preparedStatementsAllowed("postgres://u@h:5432/db", "off")).toBe(false);
  });

  it("refuses to prepare when the URL cannot be read", () => {
    expect(preparedStatementsAllowed("not a url")).toBe(false);
  });
});
