/**
 * vitest global setup: on a real PostgreSQL (DATABASE_URL), the migrated template the test
 * databases are cloned from (tests/support/db.ts) is dropped when the run ends, so a run leaves
 * no database behind. Each test database is dropped by its own close().
 */
import { createSql } from "../../supabase/functions/_shared/db/client.ts";

export default function setup() {
  return async function teardown() {
    const url = process.env.DATABASE_URL;
    if (!url) return;
    const sql = createSql(url, { max: 1 });
    try {
      const templates = await sql<{ datname: string }[]>`
        select datname from pg_database where datname like 'omni\\_tpl\\_%'`;
      for (const { datname } of templates) {
        // Without force: a template another run is cloning right now stays until its next end.
        await sql.unsafe(`drop database if exists "${datname}"`).catch(() => {});
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  };
}
