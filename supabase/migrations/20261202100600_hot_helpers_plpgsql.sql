-- The small SQL functions that every message calls, as PL/pgSQL. A LANGUAGE sql function with a
-- SET clause (search_path, here) is never inlined into its caller, and PostgreSQL plans its body
-- again on every call; a PL/pgSQL function keeps its plans for the life of the connection. On
-- the delivery log, with its 16 indexes to consider, planning is most of what these cost:
-- get_session_history 0.29 ms a call of which 0.02 ms runs the query (pg_stat_statements over
-- the webhook benchmark), once per AI reply; whatsapp_window_open once per outbound message;
-- delivery_retry_limits once per recorded outcome; archive_webhooks once per batch of webhooks.
-- Same signatures, same results; only the language changes.

create or replace function public.get_session_history(p_session_id uuid, p_limit integer default 20)
returns table (
  created_at timestamptz,
  channel text,
  direction text,
  message_type text,
  body text,
  status text
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return query
    select h.created_at, h.channel, h.direction, h.message_type, h.body, h.status
    from (
      select m.created_at, m.channel, m.direction, m.message_type, m.body, m.status
      from public.message_delivery_log m
      where m.session_id = p_session_id
        and m.body is not null
        and m.status not in ('failed', 'blocked')
      order by m.created_at desc
      limit p_limit
    ) h
    order by h.created_at asc;
end;
$$;

create or replace function public.whatsapp_window_open(p_profile_id uuid)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- (direction || '') keeps the planner on the profile's index: the inbound-only indexes are by
  -- time and channel, which would read every person's messages of the last day.
  return exists (
    select 1 from public.message_delivery_log m
    where m.profile_id = p_profile_id
      and m.channel = 'whatsapp' and (m.direction || '') = 'inbound'
      and m.created_at > now() - interval '24 hours'
  );
end;
$$;

create or replace function public.delivery_retry_limits(out max_attempts integer, out retry_window interval)
returns record
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  max_attempts := 8;
  retry_window := interval '30 minutes';
end;
$$;

create or replace function public.archive_webhooks(p_rows jsonb)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  insert into public.webhook_archive (direction, source, correlation_id, content_type, headers, body)
  select coalesce(r ->> 'direction', 'inbound'), r ->> 'source', r ->> 'correlation_id',
         r ->> 'content_type', coalesce(r -> 'headers', '{}'::jsonb), r ->> 'body'
  from jsonb_array_elements(p_rows) r;
end;
$$;
