/**
 * Autovacuum's stand-in for a benchmark database on a server that runs without it (`autovacuum =
 * off`, as this project's CI machine does; Supabase runs it). Without it the tables the benchmark
 * writes keep the statistics of an empty table and every dead row version (each reply claims and
 * completes its message, each message touches its session), and every phase runs slower than the
 * last — a measure of the missing autovacuum, not of the code. When the server's autovacuum is off,
 * this checks every `everySeconds` (10) what autovacuum would with its default thresholds
 * (vacuum once dead rows pass 50 + 20 % of the table, analyze once changes pass 50 + 10 %) and
 * does that, throttled by autovacuum's default cost delay; when it is on, it does nothing. Says which on the log.
 */
import postgres from "postgres";

export async function standInAutovacuum(
  url: string,
  log: (s: string) => void,
  everySeconds = 10,
): Promise<{ stop(): Promise<void>; rounds(): number }> {
  const sql = postgres(url, { prepare: false, max: 1, onnotice: () => {} });
  const [{ autovacuum }] = await sql`select current_setting('autovacuum') as autovacuum`;
  if (autovacuum === "on") {
    await sql.end();
    log("  autovacuum is on: the server maintains the tables");
    return { stop: () => Promise.resolve(), rounds: () => 0 };
  }
  log(
    `  autovacuum is off on this server: the benchmark applies its default thresholds every ${everySeconds} s`,
  );
  // Throttled as autovacuum is by default (autovacuum_vacuum_cost_delay 2 ms, cost limit 200):
  // an unthrottled VACUUM of the log in the middle of a phase would be harsher than production.
  await sql`select set_config('vacuum_cost_delay', '2', false), set_config('vacuum_cost_limit', '200', false)`;
  let stopped = false;
  let rounds = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const round = async () => {
    const due = await sql`
      select format('%I.%I', s.schemaname, s.relname) as name,
             s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0) as vacuum,
             s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) as analyze
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.schemaname = 'public'
        and (s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
             or s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0))`;
    for (const t of due) {
      if (stopped) return;
      const what = t.vacuum ? "vacuum (analyze)" : "analyze";
      await sql.unsafe(`${what} ${t.name}`).catch(() => {});
    }
    rounds++;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = round().finally(() => {
        if (!stopped) schedule();
      });
    }, everySeconds * 1000);
  };
  schedule();
  return {
    rounds: () => rounds,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await sql.end();
    },
  };
}
