-- GET /messages/stats (issue 14): message statistics computed by SQL over the delivery log.
--
-- Per channel, for outbound messages created in [p_from, p_to): sent (the provider took it:
-- sent, delivered or read), delivered (delivered or read), read, failed, blocked; the delivery
-- rate (delivered / sent) and read rate (read / delivered); the median and 90th percentile time
-- from sent to delivered; and the median first-response time: for each conversation whose
-- person first wrote on that channel within the range, the time to the first reply written to
-- them (the AI's or an agent's).
--
-- Indexes: outbound rows by time, carrying every column the counts read (an index-only scan
-- once the visibility map is set), and replies by conversation and time, so each conversation's
-- first reply is one index probe. docs/BENCHMARKS.md has the figures on a 1,000,000-row log.

create index message_delivery_log_outbound_stats_idx
  on public.message_delivery_log (created_at, channel)
  include (status, sent_at, delivered_at, read_at)
  where direction = 'outbound';

create index message_delivery_log_inbound_stats_idx
  on public.message_delivery_log (created_at, channel)
  include (session_id)
  where direction = 'inbound';

create index message_delivery_log_replies_idx
  on public.message_delivery_log (session_id, created_at)
  where direction = 'outbound' and purpose in ('ai_reply', 'agent_reply');

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
  median_first_response_seconds double precision
)
language sql
stable
security invoker
set search_path = ''
as $$
  with outbound as (
    select m.channel,
           count(*) filter (where m.status in ('sent', 'delivered', 'read')) as sent,
           count(*) filter (where m.status in ('delivered', 'read')) as delivered,
           count(*) filter (where m.status = 'read') as read,
           count(*) filter (where m.status = 'failed') as failed,
           count(*) filter (where m.status = 'blocked') as blocked,
           percentile_cont(0.5) within group (order by extract(epoch from m.delivered_at - m.sent_at))
             filter (where m.delivered_at is not null and m.sent_at is not null) as p50,
           percentile_cont(0.9) within group (order by extract(epoch from m.delivered_at - m.sent_at))
             filter (where m.delivered_at is not null and m.sent_at is not null) as p90
    from public.message_delivery_log m
    where m.direction = 'outbound' and m.created_at >= p_from and m.created_at < p_to
      and (p_channel is null or m.channel = p_channel)
    group by m.channel
  ),
  first_in as (
    select i.session_id, (array_agg(i.channel order by i.created_at))[1] as channel,
           min(i.created_at) as at
    from public.message_delivery_log i
    where i.direction = 'inbound' and i.created_at >= p_from and i.created_at < p_to
      and i.session_id is not null and (p_channel is null or i.channel = p_channel)
    group by i.session_id
  ),
  responses as (
    select f.channel,
           percentile_cont(0.5) within group (order by extract(epoch from r.at - f.at)) as p50
    from first_in f
    cross join lateral (
      select o.created_at as at from public.message_delivery_log o
      where o.session_id = f.session_id and o.direction = 'outbound'
        and o.purpose in ('ai_reply', 'agent_reply') and o.created_at >= f.at
      order by o.created_at limit 1
    ) r
    group by f.channel
  )
  select coalesce(o.channel, r.channel),
         coalesce(o.sent, 0)::integer, coalesce(o.delivered, 0)::integer, coalesce(o.read, 0)::integer,
         coalesce(o.failed, 0)::integer, coalesce(o.blocked, 0)::integer,
         case when o.sent > 0 then o.delivered::double precision / o.sent end,
         case when o.delivered > 0 then o.read::double precision / o.delivered end,
         o.p50, o.p90, r.p50
  from outbound o
  full join responses r on r.channel = o.channel
  order by 1
$$;

revoke execute on function public.message_stats(timestamptz, timestamptz, text) from public, anon, authenticated;
grant execute on function public.message_stats(timestamptz, timestamptz, text) to service_role;
