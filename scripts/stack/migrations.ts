import { parsePushLine, withSslDisabled } from "./push-output.ts";
import { readLines } from "./lines.ts";

export class MigrationError extends Error {
  constructor(readonly output: string) {
    super(`supabase db push failed:\n${output}`);
    this.name = "MigrationError";
  }
}

export interface PushResult {
  applied: string[];
  upToDate: boolean;
}

/**
 * Applies supabase/migrations with the real Supabase CLI (`supabase db push`), so what runs
 * locally is what runs in production, reporting each migration as the CLI starts it.
 */
export async function pushMigrations(opts: {
  root: string;
  dbUrl: string;
  onProgress: (n: number, total: number, migration: string) => void;
}): Promise<PushResult> {
  const child = new Deno.Command(`${opts.root}/node_modules/.bin/supabase`, {
    args: ["db", "push", "--db-url", withSslDisabled(opts.dbUrl), "--yes"],
    cwd: opts.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const output: string[] = [];
  const applied: string[] = [];
  let total = 0;
  let upToDate = false;
  const onLine = (line: string) => {
    const event = parsePushLine(line);
    if (event.kind !== "noise") output.push(line);
    if (event.kind === "plan") total = event.total;
    else if (event.kind === "up-to-date") upToDate = true;
    else if (event.kind === "applying") {
      applied.push(event.migration);
      opts.onProgress(applied.length, Math.max(total, applied.length), event.migration);
    }
  };
  const [status] = await Promise.all([
    child.status,
    readLines(child.stdout, onLine),
    readLines(child.stderr, onLine),
  ]);
  if (!status.success) throw new MigrationError(output.join("\n"));
  return { applied, upToDate };
}
