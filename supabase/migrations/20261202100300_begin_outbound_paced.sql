-- An AI reply in 3 round trips: the claim (claim_inbound_reply_context), the outbound row, the
-- outcome (record_outbound_outcomes). begin_outbound_message now also
--
-- * takes the send's pacing token (p_tokens, as begin_post_call_notification_paced does): for a
--   sender the isolate holds no leased token for, [{sender_key, wanted, rate}] says how many to
--   lease from its bucket (public.take_send_tokens). Taken only when this call wrote the row and
--   it is queued (a blocked or an earlier row sends nothing), and last, so the sender's row is
--   locked for the shortest time;
-- * completes the inbound message's reply claim (p_completes_inbound, its delivery id): once the
--   reply's row is written the outbox owns it (queued under a 2-minute lease, dispatch sends it if
--   this replier dies), and its idempotency key keeps a retried reply from being sent twice, so
--   the claim is done in the same transaction instead of a round trip after the send.
--
-- The old signature is dropped (a second overload would make named calls ambiguous).
drop function public.begin_outbound_message(text, text, text, uuid, text, text, text, text, jsonb);

create function public.begin_outbound_message(
  p_channel text,
  p_recipient text,
  p_body text,
  p_session_id uuid default null,
  p_purpose text default null,
  p_correlation_id text default null,
  p_idempotency_key text default null,
  p_message_type text default 'text',
  p_metadata jsonb default '{}',
  p_tokens jsonb default '[]',
  p_completes_inbound uuid default null
)
returns table (
  delivery_id uuid, session_id uuid, profile_id uuid, status text, whatsapp_window_open boolean,
  has_whatsapp boolean, is_new boolean, sender_key text, granted integer, wait_ms integer
)
language plpgsql
security invoker
set search_path = ''
as $function$
declare
  v_profile public.profiles%rowtype;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
  v_key text;
  v_wanted integer;
  v_rate double precision;
begin
  insert into public.profiles as p (phone_number) values (p_recipient)
  on conflict (phone_number) do nothing;
  select * into v_profile from public.profiles p where p.phone_number = p_recipient;

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile.id) then
    -- Another person's conversation (or none at all): the message would show up in their
    -- history and their AI context. Refused before anything is written or sent.
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until,
      error_code, error_class, error_message
    ) values (
      v_session_id, v_profile.id, p_channel, 'outbound', p_message_type,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'blocked' else 'queued' end,
      p_recipient, p_body, coalesce(p_metadata, '{}'::jsonb), p_correlation_id, p_purpose,
      p_idempotency_key, 1,
      now() + interval '2 minutes',
      case when p_channel = 'sms' and not v_profile.allows_sms then 'SMS.OPTED_OUT' end,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'permanent' end,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'The recipient opted out of SMS' end
    )
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is null then
      select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
      v_existing := true;
    end if;
  end if;

  if p_completes_inbound is not null then
    update public.message_delivery_log m
    set reply_state = 'done', leased_until = null
    where m.id = p_completes_inbound and (m.direction || '') = 'inbound';
  end if;

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_profile.id;
  status := v_row.status;
  has_whatsapp := v_profile.has_whatsapp;
  is_new := not v_existing;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);

  -- One sender per message: the first request names it. Nothing to send, nothing taken.
  select t.sender_key, t.wanted, t.rate into v_key, v_wanted, v_rate
  from jsonb_to_recordset(coalesce(p_tokens, '[]'::jsonb))
    as t(sender_key text, wanted integer, rate double precision)
  where t.sender_key is not null and coalesce(t.wanted, 0) > 0
  limit 1;
  if v_key is not null and is_new and v_row.status = 'queued' then
    sender_key := v_key;
    select t.granted, t.wait_ms into granted, wait_ms
    from public.take_send_tokens(v_key, v_wanted, coalesce(v_rate, 80)) t;
  end if;
  return next;
end;
$function$;

revoke execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text, jsonb, jsonb, uuid)
  from public, anon, authenticated;
grant execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text, jsonb, jsonb, uuid)
  to service_role;
