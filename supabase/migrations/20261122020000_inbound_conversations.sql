-- Inbound conversations: webhooks record messages and statuses; the AI agent replies once.
--
-- A webhook answers 2xx only after record_inbound_message committed. The AI reply runs after
-- that; an inbound row keeps reply_state = 'pending' until a replier claims it (with a lease),
-- so a crash between the two leaves the row claimable again instead of losing the reply.

-- Records one inbound message, idempotently on (channel, provider_message_id): the same webhook
-- delivered twice, or twenty times at once, yields one row and one `is_new`. Upserts the profile
-- (a WhatsApp message proves the number has WhatsApp), gets or creates the live session and
-- extends it.
create or replace function public.record_inbound_message(
  p_channel text,
  p_sender text,
  p_provider text,
  p_provider_message_id text,
  p_message_type text default 'text',
  p_body text default null,
  p_metadata jsonb default '{}'::jsonb,
  p_correlation_id text default null,
  p_whatsapp_jid text default null,
  p_needs_reply boolean default true,
  p_display_name text default null
)
returns table (
  delivery_id uuid,
  session_id uuid,
  profile_id uuid,
  is_new boolean,
  allows_sms boolean
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_session record;
  v_id uuid;
begin
  if p_provider_message_id is null or length(p_provider_message_id) = 0 then
    raise exception 'provider_message_id is required' using errcode = '22023';
  end if;

  select * into v_session
  from public.get_or_create_omnichannel_session(p_sender, p_channel);

  if p_channel = 'whatsapp' then
    update public.profiles p
    set has_whatsapp = true,
        whatsapp_jid = coalesce(p_whatsapp_jid, p.whatsapp_jid),
        display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id;
  elsif p_display_name is not null then
    update public.profiles p set display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id;
  end if;

  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider,
    provider_message_id, sender, body, metadata, correlation_id, received_at, reply_state
  ) values (
    v_session.session_id, v_session.profile_id, p_channel, 'inbound', p_message_type, 'received',
    p_provider, p_provider_message_id, p_sender, p_body, coalesce(p_metadata, '{}'::jsonb),
    p_correlation_id, now(), case when p_needs_reply then 'pending' else 'skipped' end
  )
  on conflict (channel, provider_message_id) do nothing
  returning m.id into v_id;

  if v_id is null then
    select m.id, m.session_id, m.profile_id into delivery_id, session_id, profile_id
    from public.message_delivery_log m
    where m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    is_new := false;
  else
    delivery_id := v_id;
    session_id := v_session.session_id;
    profile_id := v_session.profile_id;
    is_new := true;
  end if;
  allows_sms := v_session.allows_sms;
  return next;
end;
$$;

-- Takes the AI reply for one inbound message: true for exactly one caller while the lease runs.
create or replace function public.claim_inbound_reply(
  p_delivery_id uuid,
  p_lease_seconds integer default 120
)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with claimed as (
    update public.message_delivery_log m
    set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
    where m.id = p_delivery_id
      and m.direction = 'inbound'
      and (m.reply_state = 'pending'
           or (m.reply_state = 'in_progress' and m.leased_until <= now()))
    returning 1
  )
  select exists (select 1 from claimed)
$$;

create or replace function public.complete_inbound_reply(p_delivery_id uuid, p_state text default 'done')
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if p_state not in ('done', 'skipped', 'pending') then
    raise exception 'reply state must be done, skipped or pending, not %', p_state using errcode = '22023';
  end if;
  update public.message_delivery_log m
  set reply_state = p_state, leased_until = null
  where m.id = p_delivery_id and m.direction = 'inbound';
end;
$$;

-- Applies a provider's status callback to the outbound row with that provider id. The status
-- only moves forward (the table's trigger keeps the old one otherwise); a failure stores the
-- provider's code and title; a failure meaning "not on WhatsApp" teaches the profile. An unknown
-- id returns matched = false (the webhook logs it; providers send statuses for messages sent by
-- other systems on the same number).
create or replace function public.record_delivery_status(
  p_channel text,
  p_provider_message_id text,
  p_status text,
  p_error_code text default null,
  p_error_message text default null,
  p_error_class text default null,
  p_not_on_channel boolean default false,
  p_metadata jsonb default '{}'::jsonb
)
returns table (matched boolean, delivery_id uuid, previous_status text, current_status text)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_before text;
  v_row public.message_delivery_log%rowtype;
begin
  if p_status not in ('sent', 'delivered', 'read', 'failed') then
    raise exception 'a delivery status is sent, delivered, read or failed, not %', p_status
      using errcode = '22023';
  end if;
  -- Profile first, then the delivery: the lock order of every other writer of both.
  perform 1 from public.profiles p
  where p.id = (select m.profile_id from public.message_delivery_log m
                where m.channel = p_channel and m.provider_message_id = p_provider_message_id
                  and m.direction = 'outbound')
  for update;
  select m.status into v_before from public.message_delivery_log m
  where m.channel = p_channel and m.provider_message_id = p_provider_message_id
    and m.direction = 'outbound'
  for update;
  if not found then
    matched := false;
    return next;
    return;
  end if;

  update public.message_delivery_log m
  set status = p_status,
      error_code = case when p_status = 'failed' then coalesce(p_error_code, m.error_code) else m.error_code end,
      error_message = case when p_status = 'failed' then coalesce(p_error_message, m.error_message) else m.error_message end,
      error_class = case when p_status = 'failed' then coalesce(p_error_class, m.error_class, 'permanent') else m.error_class end,
      metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb)
  where m.channel = p_channel and m.provider_message_id = p_provider_message_id
    and m.direction = 'outbound'
  returning * into v_row;

  if p_status = 'failed' and p_not_on_channel and p_channel = 'whatsapp' and v_row.status = 'failed' then
    update public.profiles p set has_whatsapp = false where p.id = v_row.profile_id;
  end if;

  matched := true;
  delivery_id := v_row.id;
  previous_status := v_before;
  current_status := v_row.status;
  return next;
end;
$$;

-- SMS keywords: STOP-like words turn SMS off, START-like words turn it back on. Returns whether
-- the preference changed, so the confirmation is sent once, not on every repeated STOP.
create or replace function public.set_sms_preference(p_phone_number text, p_allows_sms boolean)
returns table (profile_id uuid, changed boolean)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_before boolean;
begin
  insert into public.profiles as p (phone_number, allows_sms, last_active_channel)
  values (p_phone_number, true, 'sms')
  on conflict (phone_number) do nothing;
  select p.id, p.allows_sms into profile_id, v_before
  from public.profiles p where p.phone_number = p_phone_number for update;
  update public.profiles p set allows_sms = p_allows_sms, last_active_channel = 'sms'
  where p.id = profile_id;
  changed := v_before is distinct from p_allows_sms;
  return next;
end;
$$;

-- One outbound message on one channel (AI replies, tools): logged before the provider is called.
-- SMS to a person who opted out is written as 'blocked' and must not be sent; WhatsApp reports
-- whether the 24 h customer-service window is open and whether the person is known not to have
-- WhatsApp. Idempotent on p_idempotency_key when given.
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

-- The conversation so far, across every channel, oldest first (the AI agent's history).
create or replace function public.get_session_history(p_session_id uuid, p_limit integer default 20)
returns table (
  created_at timestamptz,
  channel text,
  direction text,
  message_type text,
  body text,
  status text
)
language sql
stable
security invoker
set search_path = ''
as $$
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
  order by h.created_at asc
$$;

do $$
declare
  v_fn text;
begin
  foreach v_fn in array array[
    'public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text)',
    'public.claim_inbound_reply(uuid, integer)',
    'public.complete_inbound_reply(uuid, text)',
    'public.record_delivery_status(text, text, text, text, text, text, boolean, jsonb)',
    'public.set_sms_preference(text, boolean)',
    'public.begin_outbound_message(text, text, text, uuid, text, text, text, text)',
    'public.get_session_history(uuid, integer)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated', v_fn);
    execute format('grant execute on function %s to service_role', v_fn);
  end loop;
end;
$$;

-- SMS keywords (STOP, START, HELP): the inbound message, the preference change and the one
-- confirmation it owes are written in one transaction, so a redelivered or concurrent copy of the
-- same keyword changes nothing twice and owes no second confirmation.

-- Records one keyword SMS and applies it. Only a NEW message applies its keyword; STOP and START
-- owe a confirmation only when the preference actually changed (STOP twice confirms once), HELP
-- always owes its answer. The confirmation is written here as a queued outbound row (leased, like
-- begin_outbound_message's) that the webhook sends next: the STOP confirmation is the one SMS a
-- person who just opted out may still get, so it is inserted here rather than through
-- begin_outbound_message, which blocks every SMS to an opted-out person. A HELP answer to someone
-- who opted out is written as 'blocked' and not sent.
--
-- p_only_when_opted_out: the word ("YES") is also an everyday answer, so it re-subscribes only a
-- person who opted out; from anyone else it is recorded as an ordinary message that the AI
-- answers (keyword_applied = false).
create or replace function public.record_sms_keyword(
  p_sender text,
  p_provider text,
  p_provider_message_id text,
  p_body text,
  p_keyword text,
  p_reply_body text,
  p_metadata jsonb default '{}'::jsonb,
  p_correlation_id text default null,
  p_only_when_opted_out boolean default false
)
returns table (
  delivery_id uuid,
  session_id uuid,
  profile_id uuid,
  is_new boolean,
  keyword_applied boolean,
  allows_sms boolean,
  changed boolean,
  reply_delivery_id uuid,
  reply_status text
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_in record;
  v_allows_before boolean;
  v_reply_status text;
begin
  if p_keyword is null or p_keyword not in ('stop', 'start', 'help') then
    raise exception 'an SMS keyword is stop, start or help, not %', p_keyword using errcode = '22023';
  end if;

  keyword_applied := true;
  if p_only_when_opted_out then
    select p.allows_sms into v_allows_before from public.profiles p where p.phone_number = p_sender;
    keyword_applied := v_allows_before is not null and not v_allows_before;
  end if;

  select * into v_in from public.record_inbound_message(
    'sms', p_sender, p_provider, p_provider_message_id, 'text', p_body,
    coalesce(p_metadata, '{}'::jsonb)
      || case when keyword_applied then jsonb_build_object('keyword', p_keyword) else '{}'::jsonb end,
    p_correlation_id, null, not keyword_applied, null);

  delivery_id := v_in.delivery_id;
  session_id := v_in.session_id;
  profile_id := v_in.profile_id;
  is_new := v_in.is_new;
  changed := false;

  if v_in.is_new and keyword_applied and p_keyword in ('stop', 'start') then
    select c.changed into changed from public.set_sms_preference(p_sender, p_keyword = 'start') c;
  end if;

  select p.allows_sms into allows_sms from public.profiles p where p.id = v_in.profile_id;

  if v_in.is_new and keyword_applied and (changed or p_keyword = 'help') then
    v_reply_status := case when p_keyword = 'help' and not allows_sms then 'blocked' else 'queued' end;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, provider, recipient, body,
      metadata, correlation_id, purpose, idempotency_key, attempts, leased_until,
      error_code, error_class, error_message
    ) values (
      v_in.session_id, v_in.profile_id, 'sms', 'outbound', 'text', v_reply_status, p_provider,
      p_sender, p_reply_body,
      jsonb_build_object('keyword', p_keyword, 'in_reply_to', v_in.delivery_id),
      p_correlation_id, 'keyword_reply',
      'sms-keyword:' || p_provider || ':' || p_provider_message_id,
      case when v_reply_status = 'queued' then 1 else 0 end,
      case when v_reply_status = 'queued' then now() + interval '2 minutes' end,
      case when v_reply_status = 'blocked' then 'SMS_OPTED_OUT' end,
      case when v_reply_status = 'blocked' then 'permanent' end,
      case when v_reply_status = 'blocked' then 'The recipient opted out of SMS' end
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into reply_delivery_id, reply_status;
  end if;

  return next;
end;
$$;

revoke execute on function public.record_sms_keyword(text, text, text, text, text, text, jsonb, text, boolean)
  from public, anon, authenticated;
grant execute on function public.record_sms_keyword(text, text, text, text, text, text, jsonb, text, boolean)
  to service_role;
