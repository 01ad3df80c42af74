import { PGlite } from "@electric-sql/pglite";
import { startPGliteServer } from "../lib/pglite-server.ts";
import { pgliteExtensions } from "../lib/pglite-extensions.ts";

export interface Database {
  url: string;
  embedded: boolean;
  /** Where the embedded database keeps its data ("memory://" for none). */
  dataDir?: string;
  stop(): Promise<void>;
}

/**
 * The database the stack uses: the one at `url`, or embedded PGlite served over the Postgres
 * wire protocol on `port` (scripts/lib/pglite-server.ts: many connections, one transaction at
 * a time, which is what the function processes and the Supabase CLI need).
 */
export async function startDatabase(opts: {
  url?: string;
  port: number;
  dataDir: string;
}): Promise<Database> {
  if (opts.url) return { url: opts.url, embedded: false, stop: () => Promise.resolve() };

  if (!opts.dataDir.startsWith("memory://")) await Deno.mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: opts.dataDir, extensions: pgliteExtensions });
  let server;
  try {
    server = await startPGliteServer(db, { host: "127.0.0.1", port: opts.port });
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres`,
    embedded: true,
    dataDir: opts.dataDir,
    async stop() {
      await server.stop();
      // Closing PGlite flushes its data directory; skipping it can lose the last writes.
      await db.close();
    },
  };
}
