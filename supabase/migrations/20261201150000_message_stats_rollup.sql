-- GET /messages/stats under 200 ms on a 1,000,000-row log for any window (issue 14): an hourly
-- and daily rollup of the delivery log, folded by a scheduled job, read together with the raw log
-- for what the rollup does not hold yet, so every answer is exact at any moment.
--
-- What is rolled up, per hour and channel (public.message_stats_from_log computes it for any
-- range of the log; the rollup holds it for whole hours, and whole days summed from them):
-- - counts of outbound messages created in the hour: all of them (outbound), sent (sent, delivered or read), delivered
--   (delivered or read), read, failed, blocked;
-- - histograms of the seconds from sent to delivered and from sent to read;
-- - a histogram of first-response times of the conversations (sessions) whose person's first
--   message falls in the hour: the seconds to the first reply written to them (an AI or agent
--   reply), on the channel of that first message.
-- Histogram buckets (public.message_stats_bucket): whole seconds below 1,000 s, then three
-- significant digits (10 s steps to 10,000 s, 100 s to 100,000 s…), rounded down; medians and
-- p90s are interpolated between buckets as percentile_cont interpolates between values, so they
-- are exact for whole-second latencies under 1,000 s and otherwise within 1 %.
--
-- Freshness without per-row triggers: three statement-level triggers (insert, update, delete)
-- mark the hours a statement changed in public.message_stats_dirty — the hours of the rows it
-- wrote, and for inbound messages and replies the hour of their conversation's first message —
-- one row per hour and backend (pg_backend_pid() % 16) so concurrent writers rarely meet on one
-- row. public.refresh_message_stats(), every 5 minutes, takes the marks of past hours no writer
-- holds, then (in a later statement, so it sees everything those writers committed) recomputes
-- those hours and their days. public.message_stats reads clean days and hours from the rollup
-- and everything else — the partial hours at the window's edges, the current hour, hours marked
-- since the last fold — from the log.

create table public.message_stats_hourly (
  hour timestamptz not null,
  channel text not null,
  metric text not null check (metric in (
    'outbound', 'sent', 'delivered', 'read', 'failed', 'blocked', 'to_delivered', 'to_read',
    'first_response')),
  bucket double precision not null,
  n bigint not null,
  primary key (hour, channel, metric, bucket)
);

create table public.message_stats_daily (
  day timestamptz not null,
  channel text not null,
  metric text not null,
  bucket double precision not null,
  n bigint not null,
  primary key (day, channel, metric, bucket)
);

create table public.message_stats_dirty (
  hour timestamptz not null,
  shard integer not null,
  marks bigint not null default 1,
  primary key (hour, shard)
);

comment on table public.message_stats_hourly is
  'GET /messages/stats rollup per hour: counts and latency histograms (public.message_stats_from_log), folded by public.refresh_message_stats.';
comment on table public.message_stats_daily is
  'The hourly rollup summed per UTC day; a day is read only when none of its hours is marked dirty.';
comment on table public.message_stats_dirty is
  'Hours of the delivery log changed since they were last folded into the rollup (statement triggers).';

alter table public.message_stats_hourly enable row level security;
alter table public.message_stats_daily enable row level security;
alter table public.message_stats_dirty enable row level security;
revoke all on table public.message_stats_hourly, public.message_stats_daily, public.message_stats_dirty
  from anon, authenticated;
grant select, insert, update, delete on table public.message_stats_hourly, public.message_stats_daily,
  public.message_stats_dirty to service_role;
create policy omnichannel_service_role_all on public.message_stats_hourly for all to service_role using (true) with check (true);
create policy omnichannel_service_role_all on public.message_stats_daily for all to service_role using (true) with check (true);
create policy omnichannel_service_role_all on public.message_stats_dirty for all to service_role using (true) with check (true);

-- The histogram bucket of a latency in seconds (see above). Immutable and without a SET clause
-- so the planner inlines it.
create or replace function public.message_stats_bucket(p_seconds numeric)
returns double precision
language sql
immutable
parallel safe
as $$
  select (case when p_seconds < 1000 then floor(p_seconds)
               else trunc(p_seconds, 2 - floor(log(p_seconds))::integer) end)::double precision
$$;

-- The rollup's rows for [p_from, p_to) computed from the log: (channel, metric, bucket, n), with
-- bucket 0 for the counts. first_response rows belong to the range holding the conversation's
-- first inbound message (the earliest by created_at, then id).
create or replace function public.message_stats_from_log(
  p_from timestamptz,
  p_to timestamptz,
  p_channel text default null
)
returns table (channel text, metric text, bucket double precision, n bigint)
language sql
stable
security invoker
set search_path = ''
set max_parallel_workers_per_gather = 0
as $$
  with outbound as (
    select m.channel, m.status,
           extract(epoch from m.delivered_at - m.sent_at) as to_delivered,
           extract(epoch from m.read_at - m.sent_at) as to_read
    from public.message_delivery_log m
    where m.direction = 'outbound' and m.created_at >= p_from and m.created_at < p_to
      and (p_channel is null or m.channel = p_channel)
  ),
  first_response as (
    select i.channel, extract(epoch from r.at - i.created_at) as seconds
    from public.message_delivery_log i
    cross join lateral (
      select o.created_at as at from public.message_delivery_log o
      where o.session_id = i.session_id and o.direction = 'outbound'
        and o.purpose in ('ai_reply', 'agent_reply') and o.created_at >= i.created_at
      order by o.created_at limit 1
    ) r
    where i.direction = 'inbound' and i.created_at >= p_from and i.created_at < p_to
      and i.session_id is not null and (p_channel is null or i.channel = p_channel)
      and not exists (
        select 1 from public.message_delivery_log e
        where e.session_id = i.session_id and e.direction = 'inbound'
          and e.created_at <= i.created_at and (e.created_at < i.created_at or e.id < i.id))
  )
  select o.channel, k.metric, 0::double precision, count(*)
  from outbound o
  cross join lateral unnest(case o.status
    when 'sent' then array['outbound', 'sent']
    when 'delivered' then array['outbound', 'sent', 'delivered']
    when 'read' then array['outbound', 'sent', 'delivered', 'read']
    when 'failed' then array['outbound', 'failed']
    when 'blocked' then array['outbound', 'blocked']
    else array['outbound'] end) as k(metric)
  group by o.channel, k.metric
  union all
  select o.channel, 'to_delivered', public.message_stats_bucket(o.to_delivered), count(*)
  from outbound o where o.to_delivered is not null
  group by o.channel, 3
  union all
  select o.channel, 'to_read', public.message_stats_bucket(o.to_read), count(*)
  from outbound o where o.to_read is not null
  group by o.channel, 3
  union all
  select f.channel, 'first_response', public.message_stats_bucket(f.seconds), count(*)
  from first_response f
  group by f.channel, 3
$$;

-- Marks the hours a statement on the log changed (see above). The transition tables are read
-- through SQL built at run time: they exist only inside the trigger.
create or replace function public.mark_message_stats_dirty()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_changed text;
  v_new text;
begin
  if tg_op = 'INSERT' then
    v_changed := 'select id, created_at, session_id, direction, purpose from new_rows';
    v_new := 'select id from new_rows';
  elsif tg_op = 'DELETE' then
    v_changed := 'select id, created_at, session_id, direction, purpose from old_rows';
    v_new := 'select null::uuid as id where false';
  else
    -- Only rows whose counted columns moved: the agent worker's leases and reply states do not.
    v_changed := 'with moved as (
        select n.id from new_rows n join old_rows o on o.id = n.id
        where (n.created_at, n.channel, n.direction, n.status, n.sent_at, n.delivered_at, n.read_at,
               n.session_id, n.purpose)
          is distinct from (o.created_at, o.channel, o.direction, o.status, o.sent_at,
               o.delivered_at, o.read_at, o.session_id, o.purpose))
      select n.id, n.created_at, n.session_id, n.direction, n.purpose from new_rows n join moved using (id)
      union all
      select o.id, o.created_at, o.session_id, o.direction, o.purpose from old_rows o join moved using (id)';
    v_new := 'select id from new_rows';
  end if;
  execute format($sql$
    with changed as (%s),
    sessions as (
      select distinct c.session_id from changed c
      where c.session_id is not null
        and (c.direction = 'inbound' or c.purpose in ('ai_reply', 'agent_reply'))
    ),
    hours as (
      select c.created_at as at from changed c
      union
      -- the conversation's first message now, and before this statement
      select f.at from sessions s
      cross join lateral (
        select min(m.created_at) as at from public.message_delivery_log m
        where m.session_id = s.session_id and m.direction = 'inbound'
        union all
        select min(m.created_at) from public.message_delivery_log m
        where m.session_id = s.session_id and m.direction = 'inbound'
          and m.id not in (%s)
      ) f
      where f.at is not null
    )
    insert into public.message_stats_dirty as d (hour, shard)
    select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_backend_pid() %% 16
    from hours h
    on conflict (hour, shard) do update set marks = d.marks + 1
  $sql$, v_changed, v_new);
  return null;
end;
$$;

revoke execute on function public.mark_message_stats_dirty() from public, anon, authenticated;

create trigger message_delivery_log_stats_insert
  after insert on public.message_delivery_log
  referencing new table as new_rows
  for each statement execute function public.mark_message_stats_dirty();
create trigger message_delivery_log_stats_update
  after update on public.message_delivery_log
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.mark_message_stats_dirty();
create trigger message_delivery_log_stats_delete
  after delete on public.message_delivery_log
  referencing old table as old_rows
  for each statement execute function public.mark_message_stats_dirty();

-- A truncated log empties the rollup with it.
create or replace function public.truncate_message_stats()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  truncate public.message_stats_hourly, public.message_stats_daily, public.message_stats_dirty;
  return null;
end;
$$;

revoke execute on function public.truncate_message_stats() from public, anon, authenticated;

create trigger message_delivery_log_stats_truncate
  after truncate on public.message_delivery_log
  for each statement execute function public.truncate_message_stats();

-- Every hour already in the log is dirty until the first fold.
insert into public.message_stats_dirty (hour, shard)
select distinct date_bin('1 hour', m.created_at, timestamptz '2000-01-01 00:00:00+00'), 0
from public.message_delivery_log m
on conflict do nothing;

-- The fold: up to p_max_hours past hours whose marks no writer holds, recomputed with their
-- days. Returns the hours folded. Run under READ COMMITTED (pg_cron and the ticker do): the
-- recomputation must see what the writers of the taken marks committed.
create or replace function public.refresh_message_stats(p_max_hours integer default 200)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_hours timestamptz[];
begin
  if not pg_try_advisory_xact_lock(hashtext('public.refresh_message_stats')) then
    return 0;
  end if;
  with taken as (
    delete from public.message_stats_dirty d
    where (d.hour, d.shard) in (
      select x.hour, x.shard from public.message_stats_dirty x
      where x.hour < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
        and x.hour in (
          select distinct y.hour from public.message_stats_dirty y
          where y.hour < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
          order by y.hour limit greatest(p_max_hours, 1))
      for update skip locked)
    returning d.hour
  )
  select array_agg(distinct t.hour) into v_hours from taken t;
  if v_hours is null then
    return 0;
  end if;

  delete from public.message_stats_hourly h where h.hour = any (v_hours);
  insert into public.message_stats_hourly (hour, channel, metric, bucket, n)
  select t.hour, r.channel, r.metric, r.bucket, r.n
  from unnest(v_hours) as t(hour)
  cross join lateral public.message_stats_from_log(t.hour, t.hour + interval '1 hour') r;

  delete from public.message_stats_daily d
  where d.day in (select date_bin('1 day', t.hour, timestamptz '2000-01-01 00:00:00+00') from unnest(v_hours) as t(hour));
  insert into public.message_stats_daily (day, channel, metric, bucket, n)
  select x.day, h.channel, h.metric, h.bucket, sum(h.n)::bigint
  from (select distinct date_bin('1 day', t.hour, timestamptz '2000-01-01 00:00:00+00') as day
        from unnest(v_hours) as t(hour)) x
  join public.message_stats_hourly h on h.hour >= x.day and h.hour < x.day + interval '1 day'
  group by x.day, h.channel, h.metric, h.bucket;
  return cardinality(v_hours);
end;
$$;

-- GET /messages/stats: the same figures as before (see 20261130142000_message_stats.sql), now
-- also the median and p90 time to read, from the rollup where it is clean and the log elsewhere.
-- First-response time is the conversation's (as the SLA's first response): from the person's
-- first message of the conversation, when it falls in the window, to the first reply to them.
drop function public.message_stats(timestamptz, timestamptz, text);

create or replace function public.message_stats(
  p_from timestamptz,
  p_to timestamptz,
  p_channel text default null
)
returns table (
  channel text,
  sent integer,
  delivered integer,
  read integer,
  failed integer,
  blocked integer,
  delivery_rate double precision,
  read_rate double precision,
  median_seconds_to_delivered double precision,
  p90_seconds_to_delivered double precision,
  median_seconds_to_read double precision,
  p90_seconds_to_read double precision,
  median_first_response_seconds double precision
)
language sql
stable
security invoker
set search_path = ''
as $$
  with b as (
    -- full hours [fh, lh) and full days [fd, ld) inside the window
    select x.fh, x.lh,
           date_bin('1 day', x.fh + interval '1 day' - interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00') as fd,
           date_bin('1 day', x.lh, timestamptz '2000-01-01 00:00:00+00') as ld
    from (
      select date_bin('1 hour', p_from + interval '1 hour' - interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00') as fh,
             date_bin('1 hour', p_to, timestamptz '2000-01-01 00:00:00+00') as lh
    ) x
  ),
  dirty as (
    select distinct d.hour from public.message_stats_dirty d, b
    where d.hour >= b.fh and d.hour < b.lh
  ),
  dirty_days as (
    select distinct date_bin('1 day', d.hour, timestamptz '2000-01-01 00:00:00+00') as day from dirty d
  ),
  -- the hourly rollup covers the full hours outside full days, and the full days with a dirty hour
  hour_ranges as (
    select b.fh as lo, b.lh as hi from b where b.fh < b.lh and b.fd >= b.ld
    union all
    select b.fh, b.fd from b where b.fd < b.ld and b.fh < b.fd
    union all
    select b.ld, b.lh from b where b.fd < b.ld and b.ld < b.lh
    union all
    select dd.day, dd.day + interval '1 day' from dirty_days dd, b
    where b.fd < b.ld and dd.day >= b.fd and dd.day < b.ld
  ),
  raw_ranges as (
    select p_from as lo, p_to as hi from b where b.fh >= b.lh
    union all
    select p_from, b.fh from b where b.fh < b.lh and p_from < b.fh
    union all
    select b.lh, p_to from b where b.fh < b.lh and b.lh < p_to
    union all
    select d.hour, d.hour + interval '1 hour' from dirty d
  ),
  parts as (
    select x.channel, x.metric, x.bucket, x.n
    from public.message_stats_daily x, b
    where x.day >= b.fd and x.day < b.ld and (p_channel is null or x.channel = p_channel)
      and not exists (select 1 from dirty_days dd where dd.day = x.day)
    union all
    select h.channel, h.metric, h.bucket, h.n
    from hour_ranges r
    cross join lateral (
      select x.channel, x.metric, x.bucket, x.n from public.message_stats_hourly x
      where x.hour >= r.lo and x.hour < r.hi and (p_channel is null or x.channel = p_channel)
        and not exists (select 1 from dirty d where d.hour = x.hour)) h
    union all
    select r.channel, r.metric, r.bucket, r.n
    from raw_ranges x cross join lateral public.message_stats_from_log(x.lo, x.hi, p_channel) r
  ),
  summed as (
    select p.channel, p.metric, p.bucket, sum(p.n)::bigint as n
    from parts p group by p.channel, p.metric, p.bucket
  ),
  counts as (
    select s.channel,
           coalesce(sum(s.n) filter (where s.metric = 'sent'), 0) as sent,
           coalesce(sum(s.n) filter (where s.metric = 'delivered'), 0) as delivered,
           coalesce(sum(s.n) filter (where s.metric = 'read'), 0) as read,
           coalesce(sum(s.n) filter (where s.metric = 'failed'), 0) as failed,
           coalesce(sum(s.n) filter (where s.metric = 'blocked'), 0) as blocked
    from summed s group by s.channel
  ),
  running as (
    select s.channel, s.metric, s.bucket,
           sum(s.n) over (partition by s.channel, s.metric order by s.bucket) as upto,
           sum(s.n) over (partition by s.channel, s.metric) as total
    from summed s where s.metric in ('to_delivered', 'to_read', 'first_response')
  ),
  -- percentile_cont over the histogram: the values at ranks floor and ceil of p × (n − 1),
  -- interpolated as percentile_cont does.
  ranks as (
    select r.channel, r.metric, q.p,
           min(r.bucket) filter (where r.upto > floor(q.p * (r.total - 1)::double precision)) as lo,
           min(r.bucket) filter (where r.upto > ceil(q.p * (r.total - 1)::double precision)) as hi,
           q.p * (r.total - 1)::double precision - floor(q.p * (r.total - 1)::double precision) as frac
    from running r cross join (values (0.5::double precision), (0.9::double precision)) as q(p)
    group by r.channel, r.metric, r.total, q.p
  ),
  pct as (
    select k.channel,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_delivered' and k.p = 0.5) as d50,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_delivered' and k.p = 0.9) as d90,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_read' and k.p = 0.5) as r50,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_read' and k.p = 0.9) as r90,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'first_response' and k.p = 0.5) as f50
    from ranks k group by k.channel
  )
  select c.channel, c.sent::integer, c.delivered::integer, c.read::integer, c.failed::integer,
         c.blocked::integer,
         case when c.sent > 0 then c.delivered::double precision / c.sent end,
         case when c.delivered > 0 then c.read::double precision / c.delivered end,
         p.d50, p.d90, p.r50, p.r90, p.f50
  from counts c
  left join pct p on p.channel = c.channel
  order by 1
$$;

revoke execute on function public.message_stats_from_log(timestamptz, timestamptz, text) from public, anon, authenticated;
revoke execute on function public.message_stats(timestamptz, timestamptz, text) from public, anon, authenticated;
revoke execute on function public.refresh_message_stats(integer) from public, anon, authenticated;
grant execute on function public.message_stats_from_log(timestamptz, timestamptz, text) to service_role;
grant execute on function public.message_stats(timestamptz, timestamptz, text) to service_role;
grant execute on function public.refresh_message_stats(integer) to service_role;

insert into public.scheduled_jobs (name, schedule, command)
values ('message-stats-rollup', '*/5 * * * *', 'select public.refresh_message_stats()')
on conflict (name) do update set schedule = excluded.schedule, command = excluded.command;

select public.sync_scheduled_jobs();
