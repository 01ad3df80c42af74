-- An AI reply's reads folded into its claim: one round trip claims the inbound message's reply
-- (as public.claim_inbound_reply: leased, only when pending or its lease ran out) and returns
-- everything the reply reads before the model is called: the message's text and the person's
-- WhatsApp opt-in (the STOP / START check), the provider and number it was written to (SMS
-- replies go back the same way), the session as the agent's prompt shows it, and the session's
-- history from every channel (as public.get_session_history returns it, oldest first).
-- When the claim is not taken, claimed is false and nothing else is read.

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
  reply_to := v_m.metadata ->> 'to';
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

revoke execute on function public.claim_inbound_reply_context(uuid, integer, integer)
  from public, anon, authenticated;
grant execute on function public.claim_inbound_reply_context(uuid, integer, integer)
  to service_role;
