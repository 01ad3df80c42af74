-- AI replies left behind: the retry path's view of inbound messages whose reply never happened.
--
-- A webhook answers 200 once the message is recorded (reply_state 'pending') and writes the
-- reply afterwards; a crash in between leaves the row pending, and a crash during the reply
-- leaves it 'in_progress' with a lease that runs out. The dispatcher lists both kinds here and
-- hands each to the same reply use-case, whose claim (claim_inbound_reply) makes sure only one
-- of several concurrent dispatchers replies.
create or replace function public.list_pending_inbound_replies(
  p_older_than_seconds integer default 60,
  p_limit integer default 20,
  p_max_age_seconds integer default 86400
)
returns table (
  delivery_id uuid,
  session_id uuid,
  channel text,
  sender text,
  correlation_id text,
  created_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  -- Younger rows are most likely still being answered by the webhook's own background work;
  -- much older ones are no longer worth an automatic answer and are left to a person.
  select m.id, m.session_id, m.channel, m.sender, m.correlation_id, m.created_at
  from public.message_delivery_log m
  where m.direction = 'inbound'
    and m.channel in ('whatsapp', 'sms')
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= pg_catalog.now()))
    and m.created_at <= pg_catalog.now() - pg_catalog.make_interval(secs => p_older_than_seconds)
    and m.created_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_max_age_seconds)
    and m.session_id is not null
    and m.sender is not null
  order by m.created_at
  limit p_limit
$$;

revoke execute on function public.list_pending_inbound_replies(integer, integer, integer)
  from public, anon, authenticated;
grant execute on function public.list_pending_inbound_replies(integer, integer, integer)
  to service_role;
