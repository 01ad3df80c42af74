/**
 * Reads `supabase db push` progress from its output lines (the CLI writes them to stderr):
 * "Confirmed by --yes: Apply 2 migrations on …", "Applying migration <file>...",
 * "Remote database is up to date."
 */
export type PushEvent =
  | { kind: "plan"; total: number }
  | { kind: "applying"; migration: string }
  | { kind: "up-to-date" }
  | { kind: "noise" }
  | { kind: "output"; line: string };

export function parsePushLine(line: string): PushEvent {
  const plan = line.match(/Apply (\d+) migrations? on/);
  if (plan) return { kind: "plan", total: Number(plan[1]) };
  const applying = line.match(/^Applying migration (\S+?)(?:\.sql)?\.\.\.$/);
  if (applying) return { kind: "applying", migration: applying[1] };
  if (/up to date/i.test(line)) return { kind: "up-to-date" };
  // The CLI's own notices about itself, not about the migrations.
  if (/^Warning: --db-url is deprecated|^Target: |^Finished supabase db push/.test(line)) {
    return { kind: "noise" };
  }
  return { kind: "output", line };
}

/** `url` with `sslmode=disable` (the local and embedded databases speak no TLS). */
export function withSslDisabled(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has("sslmode")) u.searchParams.set("sslmode", "disable");
  return u.toString();
}
