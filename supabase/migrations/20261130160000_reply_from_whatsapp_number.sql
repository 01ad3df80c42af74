-- claim_inbound_reply_context also names the WhatsApp number a message was written to, so the
-- AI reply leaves from that number (tenants' numbers, issue 13), as replySenderKey does.

create or replace function public.claim_inbound_reply_context(
  p_delivery_id uuid,
  p_lease_seconds integer default 120,
  p_history_limit integer default 20
)
returns table (
  claimed boolean,
  body text,
  allows_whatsapp boolean,
  provider text,
  reply_to text,
  session jsonb,
  history jsonb
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_m public.message_delivery_log;
begin
  update public.message_delivery_log m
  set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
  where m.id = p_delivery_id
    and m.direction = 'inbound'
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= now()))
  returning m.* into v_m;
  if v_m.id is null then
    claimed := false;
    return next;
    return;
  end if;

  claimed := true;
  body := v_m.body;
  provider := v_m.provider;
  -- The number the person wrote to: an SMS keeps it in `to`, a WhatsApp message names its
  -- business phone_number_id (a tenant's own number answers from itself, with its own token).
  reply_to := coalesce(v_m.metadata ->> 'to', v_m.metadata -> 'business' ->> 'phone_number_id');
  select p.allows_whatsapp into allows_whatsapp from public.profiles p where p.id = v_m.profile_id;
  select jsonb_build_object(
           'id', s.id, 'status', s.status, 'context', s.context, 'channels_seen', s.channels_seen,
           'phone_number', p.phone_number, 'display_name', p.display_name)
  into session
  from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
  where s.id = v_m.session_id;
  select coalesce(jsonb_agg(jsonb_build_object(
           'channel', h.channel, 'direction', h.direction, 'body', h.body) order by h.created_at),
         '[]'::jsonb)
  into history
  from public.get_session_history(v_m.session_id, p_history_limit) h;
  return next;
end;
$$;
