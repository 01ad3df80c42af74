-- AI replies owed to inbound email are recovered like the other channels': as 20261130110000
-- (whatsapp, sms, messenger, instagram), with email among the channels whose messages are
-- answered (dispatch's replyPending answers an email in its thread, reply-by-email.ts).
create or replace function public.list_pending_inbound_replies(
  p_older_than_seconds integer default 60,
  p_limit integer default 20,
  p_max_age_seconds integer default 86400
)
returns table (delivery_id uuid, session_id uuid, channel text, sender text, correlation_id text, created_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select m.id, m.session_id, m.channel, m.sender, m.correlation_id, m.created_at
  from public.message_delivery_log m
  where m.direction = 'inbound'
    and m.channel in ('whatsapp', 'sms', 'messenger', 'instagram', 'email')
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= pg_catalog.now()))
    and m.created_at <= pg_catalog.now() - pg_catalog.make_interval(secs => p_older_than_seconds)
    and m.created_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_max_age_seconds)
    and m.session_id is not null
    and m.sender is not null
  order by m.created_at
  limit p_limit
$$;

revoke execute on function public.list_pending_inbound_replies(integer, integer, integer) from public, anon, authenticated;
grant execute on function public.list_pending_inbound_replies(integer, integer, integer) to service_role;
