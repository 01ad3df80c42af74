import { join } from "node:path";

/**
 * `npm start` leaves a note of where its pieces are (`.data/stack.json`, readable by this user
 * only: the database URL may hold a password), so the demo and the sandbox CLI reach the
 * database the running stack uses, SUPABASE_DB_URL included, without being told again. Removed
 * when the stack stops.
 */
export interface StackFile {
  pid: number;
  api: string;
  sandbox: string;
  console: string;
  db: string;
}

export const stackFilePath = (root: string) => join(root, ".data/stack.json");

export async function writeStackFile(root: string, note: StackFile): Promise<void> {
  await Deno.mkdir(join(root, ".data"), { recursive: true });
  await Deno.writeTextFile(stackFilePath(root), JSON.stringify(note, null, 2) + "\n", {
    mode: 0o600,
  });
}

export async function removeStackFile(root: string): Promise<void> {
  await Deno.remove(stackFilePath(root)).catch(() => {});
}

/** The note of the stack whose functions or sandbox answer at `url`, if `npm start` left one. */
export async function readStackFile(root: string, url: string): Promise<StackFile | null> {
  try {
    const note = JSON.parse(await Deno.readTextFile(stackFilePath(root))) as StackFile;
    return note.api === url || note.sandbox === url ? note : null;
  } catch {
    return null;
  }
}

/**
 * The database of the running stack at `url` (its functions or its sandbox): SUPABASE_DB_URL
 * when set here, else what `npm start` noted, else the embedded database's default URL.
 */
export async function runningStackDb(
  root: string,
  url: string,
  defaultDb: string,
): Promise<string> {
  return Deno.env.get("SUPABASE_DB_URL") ?? (await readStackFile(root, url))?.db ?? defaultDb;
}

/** What to say when that database does not answer. */
export function unreachableDbHint(db: string, err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return `cannot reach the stack's database (${reason}). If npm start runs on another database, ` +
    `set SUPABASE_DB_URL to it here too (tried ${new URL(db).host}).`;
}
