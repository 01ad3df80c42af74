-- public.mark_message_stats_hours (20261201150200) is planned for the arrays it is given: a
-- cached generic plan guesses 100 rows for each unnest and joined a 100,000-row insert's ids by
-- nested loop (the 6th bulk insert of a session stalled for minutes). A custom plan sees the
-- arrays' lengths and hashes them; for a one-row write its planning costs well under a
-- millisecond (docs/BENCHMARKS.md, stats).
alter function public.mark_message_stats_hours(timestamptz[], uuid[], uuid[])
  set plan_cache_mode = force_custom_plan;
