-- The stats marks (20261201150200) keyed by the writer's backend, not pg_backend_pid() % 16: two
-- writers whose pids shared a shard waited on each other's mark of an hour until commit, and two
-- transactions marking two hours in opposite orders could deadlock (8 concurrent dispatchers).
-- With one mark per hour and backend no writer ever waits on another's; the fold takes marks
-- with skip locked, so it waits on no one either. The table holds at most hours × backends rows
-- between folds.

create or replace function public.mark_message_stats_hours(
  p_at timestamptz[],
  p_sessions uuid[],
  p_ids uuid[]
)
returns void
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
begin
  with firsts as (
    select min(m.created_at) as now_at, min(m.created_at) filter (where x.id is null) as before_at
    from unnest(p_sessions) as s(session_id)
    join public.message_delivery_log m on m.session_id = s.session_id and m.direction = 'inbound'
    left join unnest(p_ids) as x(id) on x.id = m.id
    group by s.session_id
  ),
  hours as (
    select t.at from unnest(p_at) as t(at)
    union
    select f.now_at from firsts f
    union
    select f.before_at from firsts f
  )
  insert into public.message_stats_dirty as d (hour, shard)
  select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_backend_pid()
  from hours h
  where h.at is not null
  on conflict (hour, shard) do update set marks = d.marks + 1;
end;
$$;
