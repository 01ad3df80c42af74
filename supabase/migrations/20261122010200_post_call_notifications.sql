-- Post-call summaries on WhatsApp and SMS.
--
-- The use-case (supabase/functions/_shared/notifications/notify-after-call.ts) needs three
-- round trips per notification: begin (profile + session + window + claim both channels),
-- then one outcome per channel (public.record_outbound_outcome, defined with the retry policy
-- in ..._reliable_delivery.sql), recorded as soon as that channel's provider answers.

-- WhatsApp's customer-service window: free text may be sent for 24 hours after the person's
-- last WhatsApp message; outside it only an approved template. One definition for every sender.
create or replace function public.whatsapp_window_open(p_profile_id uuid)
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select exists (
    select 1 from public.message_delivery_log m
    where m.profile_id = p_profile_id
      and m.channel = 'whatsapp' and m.direction = 'inbound'
      and m.created_at > now() - interval '24 hours'
  )
$$;

revoke execute on function public.whatsapp_window_open(uuid) from public, anon, authenticated;
grant execute on function public.whatsapp_window_open(uuid) to service_role;

-- Claims the post-call deliveries of one call, one row per channel in p_channels (both by
-- default; {whatsapp} when the SMS is only a fallback).
--
-- Per channel it answers what to do:
--   no delivery yet                     -> a queued row is written and leased, to_send = true
--   queued and leased by someone else   -> to_send = false (in flight)
--   queued with an expired lease        -> re-leased, to_send = true (a crashed sender)
--   failed                              -> a new attempt row, to_send = true
--   sent / delivered / read / blocked   -> to_send = false: the recorded outcome is the answer
-- WhatsApp is skipped (status 'skipped', no row) when the profile is known not to have it; SMS is
-- logged 'blocked' when the person opted out. A transaction-scoped advisory lock on the call id
-- serialises concurrent requests for the same call, so two of them never both send.
create or replace function public.begin_post_call_notification(
  p_call_id text,
  p_phone_number text,
  p_summary text default null,
  p_correlation_id text default null,
  p_lease_seconds integer default 120,
  p_channels text[] default array['whatsapp', 'sms']
)
returns table (
  session_id uuid,
  profile_id uuid,
  summary text,
  whatsapp_window_open boolean,
  channel text,
  delivery_id uuid,
  status text,
  provider_message_id text,
  error_code text,
  error_class text,
  error_message text,
  attempt integer,
  to_send boolean
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_session record;
  v_summary text;
  v_window boolean;
  v_channel text;
  v_row public.message_delivery_log%rowtype;
  v_found boolean;
  v_attempts integer;
  v_lease timestamptz := now() + make_interval(secs => p_lease_seconds);
  v_channels text[];
begin
  if p_call_id is null or length(p_call_id) = 0 then
    raise exception 'call_id is required' using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('post_call:' || p_call_id, 0));

  select cs.summary into v_summary from public.call_summaries cs where cs.call_id = p_call_id;
  v_summary := coalesce(p_summary, v_summary);

  select * into v_session
  from public.get_or_create_omnichannel_session(
    p_phone_number, 'voice', p_call_id,
    jsonb_build_object('last_call', jsonb_build_object(
      'call_id', p_call_id, 'summary', v_summary, 'notified_at', now())),
    'follow_up'
  );

  v_window := public.whatsapp_window_open(v_session.profile_id);

  -- WhatsApp-first (p_channels = {whatsapp}): a person known not to have WhatsApp gets the SMS.
  v_channels := p_channels;
  if v_session.has_whatsapp is false and 'whatsapp' = any (v_channels)
     and not 'sms' = any (v_channels) then
    v_channels := v_channels || 'sms'::text;
  end if;

  foreach v_channel in array v_channels loop
    select * into v_row from public.message_delivery_log m
    where m.call_id = p_call_id and m.channel = v_channel and m.purpose = 'post_call_summary'
    order by m.created_at desc, m.attempts desc
    limit 1
    for update;
    v_found := found;

    select count(*)::integer into v_attempts from public.message_delivery_log m
    where m.call_id = p_call_id and m.channel = v_channel and m.purpose = 'post_call_summary';

    session_id := v_session.session_id;
    profile_id := v_session.profile_id;
    summary := v_summary;
    whatsapp_window_open := v_window;
    channel := v_channel;
    to_send := false;

    if v_found and v_row.status = 'queued' and coalesce(v_row.leased_until, '-infinity') <= now() then
      update public.message_delivery_log m
      set leased_until = v_lease, attempts = m.attempts + 1, correlation_id = p_correlation_id
      where m.id = v_row.id
      returning * into v_row;
      to_send := true;
    elsif v_found and v_row.status <> 'failed' then
      to_send := false;
    elsif v_channel = 'whatsapp' and v_session.has_whatsapp is false then
      delivery_id := null; status := 'skipped'; provider_message_id := null;
      error_code := 'NOT_ON_WHATSAPP'; error_class := 'permanent';
      error_message := 'The recipient is known not to use WhatsApp';
      attempt := v_attempts;
      return next;
      continue;
    else
      insert into public.message_delivery_log (
        session_id, profile_id, channel, direction, status, recipient, correlation_id,
        call_id, purpose, idempotency_key, attempts, leased_until, message_type
      ) values (
        v_session.session_id, v_session.profile_id, v_channel, 'outbound',
        case when v_channel = 'sms' and not v_session.allows_sms then 'blocked' else 'queued' end,
        p_phone_number, p_correlation_id, p_call_id, 'post_call_summary',
        'post_call:' || p_call_id || ':' || v_channel
          || case when v_attempts > 0 then ':' || (v_attempts + 1)::text else '' end,
        v_attempts + 1, v_lease, 'text'
      )
      returning * into v_row;
      if v_row.status = 'blocked' then
        update public.message_delivery_log m
        set error_code = 'SMS_OPTED_OUT', error_class = 'permanent',
            error_message = 'The recipient opted out of SMS'
        where m.id = v_row.id
        returning * into v_row;
      end if;
      to_send := v_row.status = 'queued';
    end if;

    delivery_id := v_row.id;
    status := v_row.status;
    provider_message_id := v_row.provider_message_id;
    error_code := v_row.error_code;
    error_class := v_row.error_class;
    error_message := v_row.error_message;
    attempt := v_row.attempts;
    return next;
  end loop;
end;
$$;

revoke execute on function public.begin_post_call_notification(text, text, text, text, integer, text[])
  from public, anon, authenticated;
grant execute on function public.begin_post_call_notification(text, text, text, text, integer, text[])
  to service_role;

-- Session helpers the typed module (_shared/session/omnichannel-session.ts) and the AI tools
-- use; each is one round trip.

-- Merges keys into the shared context and counts as activity (extends the 24 h expiry).
create or replace function public.merge_omnichannel_session_context(
  p_session_id uuid,
  p_context jsonb
)
returns public.omnichannel_sessions
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.omnichannel_sessions%rowtype;
begin
  if jsonb_typeof(p_context) is distinct from 'object' then
    raise exception 'context must be a JSON object' using errcode = '22023';
  end if;
  update public.omnichannel_sessions s
  set context = s.context || p_context,
      last_activity_at = now(),
      expires_at = greatest(s.expires_at, now() + interval '24 hours')
  where s.id = p_session_id and s.status <> 'closed'
  returning * into v_row;
  if not found then
    raise exception 'live session % not found', p_session_id using errcode = 'P0002';
  end if;
  return v_row;
end;
$$;

-- The live (not closed, not expired) session of the person with this phone number, if any.
create or replace function public.get_active_omnichannel_session(p_phone_number text)
returns setof public.omnichannel_sessions
language sql
stable
security invoker
set search_path = ''
as $$
  select s.*
  from public.omnichannel_sessions s
  join public.profiles p on p.id = s.profile_id
  where p.phone_number = p_phone_number
    and s.status <> 'closed'
    and s.expires_at > now()
$$;

create or replace function public.mark_omnichannel_summary_sent(p_session_id uuid, p_channel text)
returns public.omnichannel_sessions
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.omnichannel_sessions%rowtype;
begin
  if p_channel not in ('whatsapp', 'sms') then
    raise exception 'summary flags exist for whatsapp and sms, not %', p_channel using errcode = '22023';
  end if;
  update public.omnichannel_sessions s
  set whatsapp_summary_sent = s.whatsapp_summary_sent or p_channel = 'whatsapp',
      whatsapp_summary_sent_at = case when p_channel = 'whatsapp' then now() else s.whatsapp_summary_sent_at end,
      sms_summary_sent = s.sms_summary_sent or p_channel = 'sms',
      sms_summary_sent_at = case when p_channel = 'sms' then now() else s.sms_summary_sent_at end
  where s.id = p_session_id
  returning * into v_row;
  if not found then
    raise exception 'session % not found', p_session_id using errcode = 'P0002';
  end if;
  return v_row;
end;
$$;

revoke execute on function public.merge_omnichannel_session_context(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.merge_omnichannel_session_context(uuid, jsonb) to service_role;
revoke execute on function public.get_active_omnichannel_session(text) from public, anon, authenticated;
grant execute on function public.get_active_omnichannel_session(text) to service_role;
revoke execute on function public.mark_omnichannel_summary_sent(uuid, text) from public, anon, authenticated;
grant execute on function public.mark_omnichannel_summary_sent(uuid, text) to service_role;
