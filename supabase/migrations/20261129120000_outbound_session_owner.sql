-- begin_outbound_message refuses a session that is not the recipient's: a tool call to A with
-- B's session_id used to write the message into B's conversation (the console, the AI history).
-- The refusal has its own SQLSTATE, OM403, so callers tell it from any other failure and answer
-- SESSION.NOT_RECIPIENT (403) instead of a 500.

create or replace function public.begin_outbound_message(
  p_channel text,
  p_recipient text,
  p_body text,
  p_session_id uuid default null,
  p_purpose text default null,
  p_correlation_id text default null,
  p_idempotency_key text default null,
  p_message_type text default 'text'
)
returns table (
  delivery_id uuid,
  session_id uuid,
  profile_id uuid,
  status text,
  whatsapp_window_open boolean,
  has_whatsapp boolean,
  is_new boolean
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_profile public.profiles%rowtype;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
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
      session_id, profile_id, channel, direction, message_type, status, recipient, body,
      correlation_id, purpose, idempotency_key, attempts, leased_until,
      error_code, error_class, error_message
    ) values (
      v_session_id, v_profile.id, p_channel, 'outbound', p_message_type,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'blocked' else 'queued' end,
      p_recipient, p_body, p_correlation_id, p_purpose, p_idempotency_key, 1,
      now() + interval '2 minutes',
      case when p_channel = 'sms' and not v_profile.allows_sms then 'SMS_OPTED_OUT' end,
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

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_profile.id;
  status := v_row.status;
  has_whatsapp := v_profile.has_whatsapp;
  is_new := not v_existing;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);
  return next;
end;
$$;

revoke execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text)
  from public, anon, authenticated;
grant execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text)
  to service_role;
