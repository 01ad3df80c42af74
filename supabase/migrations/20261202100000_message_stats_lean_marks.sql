-- The stats rollup's freshness marks, off the hot path (issue 15). The statement triggers of
-- 20261201150200 ran a PL/pgSQL function with transition tables after every statement that wrote
-- the delivery log — 0.5–0.8 ms per one-row insert or update, a reply's claim and completion
-- included, even when nothing counted moved: about a third of the database CPU of a send.
--
-- What needs a mark is only a change the rollup may already hold: a row of an hour before the
-- writer's current hour. A row written at the current hour (nearly every insert, and every status
-- of a message sent this hour) is in an hour no fold has taken yet, so it is skipped by the
-- triggers' WHEN conditions, evaluated without calling any function. What is left:
-- - row triggers, AFTER INSERT and AFTER UPDATE, whose WHEN lets through only rows of an earlier
--   hour whose counted columns moved, inserted replies (their conversation's first message may be
--   in an earlier hour), and rows moved between conversations, directions, purposes or times;
-- - the delete and truncate triggers as they were (deletes are retention's, not the hot path).
--
-- The hours no mark covers are folded by a watermark instead (public.message_stats_state.
-- folded_before): every hour before it is in the rollup or marked; hours from it on are read from
-- the log. The fold moves it forward, but never past the hour in which a transaction still open
-- in this database started: such a transaction may still commit rows of its hour without a mark.
-- (A transaction started in hour H writes unmarked rows only in hours >= H; the fold of H waits
-- until every transaction that started before H + 1 h has ended, and recomputes it in a later
-- statement, which sees what they committed.) A caller that cannot see every backend's
-- transaction start (pg_stat_activity without pg_read_all_stats) folds the marked hours only.

create table public.message_stats_state (
  singleton boolean primary key default true check (singleton),
  folded_before timestamptz not null
);
comment on table public.message_stats_state is
  'The stats rollup''s watermark: hours before folded_before are folded (or marked dirty); later hours are read from the log.';
alter table public.message_stats_state enable row level security;
revoke all on table public.message_stats_state from anon, authenticated;
grant select, insert, update, delete on table public.message_stats_state to service_role;
create policy omnichannel_service_role_select on public.message_stats_state
  as permissive for select to service_role using (true);
create policy omnichannel_service_role_insert on public.message_stats_state
  as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.message_stats_state
  as permissive for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.message_stats_state
  as permissive for delete to service_role using (true);

drop trigger message_delivery_log_stats_insert on public.message_delivery_log;
drop trigger message_delivery_log_stats_update on public.message_delivery_log;
drop function public.mark_message_stats_inserted();
drop function public.mark_message_stats_updated();

-- Until now every write was marked: every hour before this one is folded or marked. (Dropping the
-- triggers locked the log: no writer runs until this commits.)
insert into public.message_stats_state (folded_before)
values (date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'));

-- One inserted or updated row the WHEN conditions below let through: marks the hours before the
-- writer's current hour that it changed — its own (old and new), and for a conversation whose
-- first message or first reply it may move, the hour of that conversation's first message now
-- and before this transaction's writes.
create or replace function public.mark_message_stats_row()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_cut constant timestamptz := date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00');
  v_hours timestamptz[];
  v_sessions uuid[] := array[]::uuid[];
  v_session uuid;
  v_xid xid;
begin
  if tg_op = 'UPDATE' then
    v_hours := array[old.created_at, new.created_at];
    -- Only a move between conversations, directions, purposes or times changes first responses.
    if (old.session_id, old.direction, old.purpose, old.created_at)
       is distinct from (new.session_id, new.direction, new.purpose, new.created_at) then
      if old.session_id is not null
         and (old.direction = 'inbound' or old.purpose in ('ai_reply', 'agent_reply')) then
        v_sessions := v_sessions || old.session_id;
      end if;
      if new.session_id is not null
         and (new.direction = 'inbound' or new.purpose in ('ai_reply', 'agent_reply')) then
        v_sessions := v_sessions || new.session_id;
      end if;
    end if;
  else
    v_hours := array[new.created_at];
    if new.session_id is not null
       and (new.direction = 'inbound' or new.purpose in ('ai_reply', 'agent_reply')) then
      v_sessions := array[new.session_id];
    end if;
  end if;

  -- One conversation at a time, on its (session_id, created_at) index: a few rows each. (The
  -- direction is compared as an expression so the planner cannot pick the inbound stats index,
  -- which holds every inbound message, when its statistics make it look small.)
  foreach v_session in array v_sessions loop
    v_xid := coalesce(v_xid, pg_catalog.pg_current_xact_id()::xid);
    select v_hours || array[min(m.created_at), min(m.created_at) filter (where m.xmin <> v_xid)]
    into v_hours
    from public.message_delivery_log m
    where m.session_id = v_session and (m.direction || '') = 'inbound';
  end loop;

  insert into public.message_stats_dirty as d (hour, shard)
  select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_catalog.pg_backend_pid()
  from unnest(v_hours) as h(at)
  where h.at < v_cut
  on conflict (hour, shard) do update set marks = d.marks + 1;
  return null;
end;
$$;

revoke execute on function public.mark_message_stats_row() from public, anon, authenticated;
grant execute on function public.mark_message_stats_row() to service_role;

create trigger message_delivery_log_stats_insert
  after insert on public.message_delivery_log
  for each row
  when (new.created_at < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
        or (new.session_id is not null and new.direction = 'outbound'
            and new.purpose in ('ai_reply', 'agent_reply')))
  execute function public.mark_message_stats_row();

create trigger message_delivery_log_stats_update
  after update on public.message_delivery_log
  for each row
  when (((old.created_at < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
          or new.created_at < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'))
         and (old.channel, old.status, old.sent_at, old.delivered_at, old.read_at)
             is distinct from (new.channel, new.status, new.sent_at, new.delivered_at, new.read_at))
        or (old.session_id, old.direction, old.purpose, old.created_at)
           is distinct from (new.session_id, new.direction, new.purpose, new.created_at))
  execute function public.mark_message_stats_row();

-- The latest hour the fold may take (exclusive): the caller's current hour, or the hour in which
-- the oldest transaction still open in this database started, whichever is earlier; null when
-- some backend's transaction start cannot be seen (pg_stat_activity shows another role's only to
-- members of pg_read_all_stats).
create or replace function public.message_stats_fold_limit()
returns timestamptz
language sql
stable
security invoker
set search_path = ''
as $$
  select case
    when bool_or(a.query = '<insufficient privilege>') then null
    else least(
      date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'),
      min(date_bin('1 hour', a.xact_start, timestamptz '2000-01-01 00:00:00+00')))
  end
  from (select 1) one
  left join pg_catalog.pg_stat_activity a
    on a.datname = pg_catalog.current_database() and a.pid <> pg_catalog.pg_backend_pid()
$$;

revoke execute on function public.message_stats_fold_limit() from public, anon, authenticated;
grant execute on function public.message_stats_fold_limit() to service_role;

-- The fold: the marked past hours no writer holds (as before), and the hours from the watermark
-- up to the fold limit, at most p_max_hours of each; the watermark moves past the hours taken.
-- Returns the hours folded. Run under READ COMMITTED (pg_cron and the local stack's scheduler
-- do): the recomputation, a later statement, must see what the writers committed.
create or replace function public.refresh_message_stats(p_max_hours integer default 200)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_hours timestamptz[];
  v_limit timestamptz;
  v_from timestamptz;
  v_to timestamptz;
  v_max constant integer := greatest(p_max_hours, 1);
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
          order by y.hour limit v_max)
      for update skip locked)
    returning d.hour
  )
  select array_agg(distinct t.hour) into v_hours from taken t;

  v_limit := public.message_stats_fold_limit();
  select s.folded_before into v_from from public.message_stats_state s for update;
  if v_from is null then
    v_from := coalesce(v_limit, date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'));
    insert into public.message_stats_state (folded_before) values (v_from);
  end if;
  -- Without a limit (some transaction's start cannot be seen) only the marked hours are folded.
  v_to := coalesce(least(v_limit, v_from + make_interval(hours => v_max)), v_from);
  if v_to > v_from then
    select coalesce(v_hours, array[]::timestamptz[]) || array_agg(g.hour) into v_hours
    from generate_series(v_from, v_to - interval '1 hour', interval '1 hour') as g(hour);
    update public.message_stats_state set folded_before = v_to;
  end if;
  if v_hours is null then
    return 0;
  end if;
  select array_agg(distinct h.hour) into v_hours from unnest(v_hours) as h(hour);

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

-- The opt-out and suppression checks, called only for the rows they can change (an outbound row
-- written or taken queued; the WhatsApp row a post-call labelled as an SMS opt-out): before, they
-- ran as a PL/pgSQL call on every insert and lease of the log.
drop trigger message_delivery_log_block_opted_out on public.message_delivery_log;
create trigger message_delivery_log_block_opted_out
  before insert or update of error_code, leased_until on public.message_delivery_log
  for each row
  when (new.direction = 'outbound' and new.purpose is distinct from 'keyword_reply'
        and (new.status = 'queued'
             or (new.status = 'blocked' and new.channel = 'whatsapp' and new.error_code = 'SMS.OPTED_OUT')))
  execute function public.block_opted_out_outbound();

drop trigger message_delivery_log_block_undeliverable_email on public.message_delivery_log;
create trigger message_delivery_log_block_undeliverable_email
  before insert or update of leased_until on public.message_delivery_log
  for each row
  when (new.channel = 'email' and new.direction = 'outbound' and new.status = 'queued')
  execute function public.block_undeliverable_email();

-- The whole hours in [p_from, p_to) from the watermark on (not folded yet). Not inlined (it has a
-- SET clause) and declared to return a few rows: the planner keeps the plan it had for the marks.
create or replace function public.message_stats_unfolded_hours(p_from timestamptz, p_to timestamptz)
returns setof timestamptz
language sql
stable
security invoker
rows 2
set search_path = ''
as $$
  select g.hour
  from public.message_stats_state s,
       generate_series(greatest(s.folded_before, p_from), p_to - interval '1 hour', interval '1 hour') as g(hour)
$$;

revoke execute on function public.message_stats_unfolded_hours(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.message_stats_unfolded_hours(timestamptz, timestamptz) to service_role;

-- GET /messages/stats as before (20261201150000), reading the hours from the watermark on from the
-- log, as it reads the marked ones.
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
    select d.hour from public.message_stats_dirty d, b
    where d.hour >= b.fh and d.hour < b.lh
    union
    select u.hour from b, public.message_stats_unfolded_hours(b.fh, b.lh) as u(hour)
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

-- The 24-hour window check of every WhatsApp send, on the person's messages (profile_id index)
-- whatever the statistics say: the inbound stats index it could also use holds every inbound
-- message of the day, and is picked when statistics older than the day's traffic make it look
-- small (the direction is compared as an expression so it cannot be).
create or replace function public.whatsapp_window_open(p_profile_id uuid)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (
    select 1 from public.message_delivery_log m
    where m.profile_id = p_profile_id
      and m.channel = 'whatsapp' and (m.direction || '') = 'inbound'
      and m.created_at > now() - interval '24 hours'
  )
$$;

-- The SMS fallback of a failed WhatsApp message, called only for that move: before, every status
-- update (sent, delivered, read) queued a PL/pgSQL call after the row.
drop trigger message_delivery_log_fallback on public.message_delivery_log;
create trigger message_delivery_log_fallback
  after update of status on public.message_delivery_log
  for each row
  when (new.status = 'failed' and old.status is distinct from 'failed'
        and new.channel = 'whatsapp' and new.direction = 'outbound')
  execute function public.enqueue_fallback_on_failed_status();
