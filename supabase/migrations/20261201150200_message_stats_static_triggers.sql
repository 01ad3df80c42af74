-- The stats rollup's triggers (20261201150000_message_stats_rollup.sql), rewritten: the first
-- version built its SQL at run time (EXECUTE, planned on every write: +2–4 ms per one-row status
-- update or inbound insert at load 20) and looked the statement's rows up with NOT IN per
-- conversation (quadratic on a 100,000-row insert). These are static SQL in PL/pgSQL, so their
-- plans are cached, and find each conversation's first message in one hashed pass. What they
-- mark is unchanged.

drop trigger message_delivery_log_stats_insert on public.message_delivery_log;
drop trigger message_delivery_log_stats_update on public.message_delivery_log;
drop trigger message_delivery_log_stats_delete on public.message_delivery_log;
drop function public.mark_message_stats_dirty();

-- Marks the hours a statement on the log changed (see above): the times of the rows it wrote
-- (p_at), and for the conversations of the inbound messages and replies among them (p_sessions)
-- the hour of their first message now and before the statement, whose rows are p_ids.
-- PL/pgSQL so its plan is cached: the triggers below run it on every write.
create or replace function public.mark_message_stats_hours(
  p_at timestamptz[],
  p_sessions uuid[],
  p_ids uuid[]
)
returns void
language plpgsql
security definer
set search_path = ''
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
  select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_backend_pid() % 16
  from hours h
  where h.at is not null
  on conflict (hour, shard) do update set marks = d.marks + 1;
end;
$$;

create or replace function public.mark_message_stats_inserted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform public.mark_message_stats_hours(
    array(select n.created_at from new_rows n),
    array(select distinct n.session_id from new_rows n
          where n.session_id is not null
            and (n.direction = 'inbound' or n.purpose in ('ai_reply', 'agent_reply'))),
    array(select n.id from new_rows n));
  return null;
end;
$$;

create or replace function public.mark_message_stats_deleted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform public.mark_message_stats_hours(
    array(select o.created_at from old_rows o),
    array(select distinct o.session_id from old_rows o
          where o.session_id is not null
            and (o.direction = 'inbound' or o.purpose in ('ai_reply', 'agent_reply'))),
    array[]::uuid[]);
  return null;
end;
$$;

-- Only rows whose counted columns moved: the agent worker's leases and reply states do not.
create or replace function public.mark_message_stats_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_at timestamptz[];
  v_sessions uuid[];
  v_ids uuid[];
begin
  with moved as (
    select n.id, n.created_at, n.session_id, n.direction, n.purpose,
           o.created_at as old_created_at, o.session_id as old_session_id,
           o.direction as old_direction, o.purpose as old_purpose
    from new_rows n join old_rows o on o.id = n.id
    where (n.created_at, n.channel, n.direction, n.status, n.sent_at, n.delivered_at, n.read_at,
           n.session_id, n.purpose)
      is distinct from (o.created_at, o.channel, o.direction, o.status, o.sent_at,
           o.delivered_at, o.read_at, o.session_id, o.purpose)
  ),
  versions as (
    select m.id, m.created_at, m.session_id, m.direction, m.purpose from moved m
    union all
    select m.id, m.old_created_at, m.old_session_id, m.old_direction, m.old_purpose from moved m
  )
  select array_agg(v.created_at),
         array_agg(distinct v.session_id) filter (where v.session_id is not null
           and (v.direction = 'inbound' or v.purpose in ('ai_reply', 'agent_reply'))),
         array_agg(distinct v.id)
  into v_at, v_sessions, v_ids
  from versions v;
  if v_at is not null then
    perform public.mark_message_stats_hours(v_at, coalesce(v_sessions, array[]::uuid[]), v_ids);
  end if;
  return null;
end;
$$;

revoke execute on function public.mark_message_stats_hours(timestamptz[], uuid[], uuid[]) from public, anon, authenticated;
revoke execute on function public.mark_message_stats_inserted() from public, anon, authenticated;
revoke execute on function public.mark_message_stats_deleted() from public, anon, authenticated;
revoke execute on function public.mark_message_stats_updated() from public, anon, authenticated;

create trigger message_delivery_log_stats_insert
  after insert on public.message_delivery_log
  referencing new table as new_rows
  for each statement execute function public.mark_message_stats_inserted();
create trigger message_delivery_log_stats_update
  after update on public.message_delivery_log
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.mark_message_stats_updated();
create trigger message_delivery_log_stats_delete
  after delete on public.message_delivery_log
  referencing old table as old_rows
  for each statement execute function public.mark_message_stats_deleted();
