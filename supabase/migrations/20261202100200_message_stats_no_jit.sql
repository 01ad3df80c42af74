-- GET /messages/stats without JIT compilation. Its plan's cost estimates swing with the statistics
-- of public.message_stats_dirty, a small table whose rows come and go with every fold; when they
-- are stale (measured after a 1,000,000-row backfill, whose every row marked an hour) the estimate
-- passes jit_above_cost and every call spends about 1.3 s compiling a plan that runs in 36–45 ms.
-- The answer reads at most a few hundred rollup rows and a few hours of the log: JIT never pays.
alter function public.message_stats(timestamptz, timestamptz, text) set jit = off;
alter function public.message_stats_from_log(timestamptz, timestamptz, text) set jit = off;
