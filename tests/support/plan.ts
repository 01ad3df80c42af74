import type { TestDatabase } from "./db.ts";

/** Shared buffers a statement touched, functions included (EXPLAIN ANALYZE, BUFFERS). */
export async function buffersOf(db: TestDatabase, query: string): Promise<number> {
  const [row] = await db.sql.unsafe(`explain (analyze, buffers, format json) ${query}`);
  const plan = (row["QUERY PLAN"] as { Plan: Record<string, number> }[])[0].Plan;
  return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"];
}
