-- Error codes follow one grammar, AREA.REASON, like AUTH.* and TOOL.* (issue 9 §5): the opt-out
-- codes the database writes become SMS.OPTED_OUT and WHATSAPP.OPTED_OUT (were SMS_OPTED_OUT and
-- WHATSAPP_OPTED_OUT). The functions below are today's definitions with only those codes
-- changed (create or replace keeps their grants and comments); rows already written are renamed.

CREATE OR REPLACE FUNCTION public.begin_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid DEFAULT NULL::uuid, p_purpose text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_message_type text DEFAULT 'text'::text)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, status text, whatsapp_window_open boolean, has_whatsapp boolean, is_new boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_profile.id;
  status := v_row.status;
  has_whatsapp := v_profile.has_whatsapp;
  is_new := not v_existing;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);
  return next;
end;
$function$;

CREATE OR REPLACE FUNCTION public.begin_post_call_notification(p_call_id text, p_phone_number text, p_summary text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_lease_seconds integer DEFAULT 120, p_channels text[] DEFAULT ARRAY['whatsapp'::text, 'sms'::text])
 RETURNS TABLE(session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text, delivery_id uuid, status text, provider_message_id text, error_code text, error_class text, error_message text, attempt integer, to_send boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
        set error_code = 'SMS.OPTED_OUT', error_class = 'permanent',
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
$function$;

CREATE OR REPLACE FUNCTION public.block_opted_out_outbound()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_allowed boolean;
begin
  if new.direction <> 'outbound' or new.purpose is not distinct from 'keyword_reply' then
    return new;
  end if;
  -- begin_post_call_notification labels every row it finds blocked as an SMS opt-out; a WhatsApp
  -- row keeps its own reason.
  if tg_op = 'UPDATE' and new.status = 'blocked' and new.channel = 'whatsapp'
     and new.error_code = 'SMS.OPTED_OUT' then
    new.error_code := old.error_code;
    new.error_message := old.error_message;
    return new;
  end if;
  -- Written queued, or a queued row a sender is taking (its lease moves into the future).
  if new.status <> 'queued' or (tg_op = 'UPDATE' and not (
       old.status = 'queued' and new.leased_until > now()
       and new.leased_until is distinct from old.leased_until)) then
    return new;
  end if;
  select bool_and(case new.channel when 'whatsapp' then p.allows_whatsapp when 'sms' then p.allows_sms end)
  into v_allowed
  from public.profiles p where p.id = new.profile_id or p.phone_number = new.recipient;
  if v_allowed is false then
    new.status := 'blocked';
    new.error_code := upper(new.channel) || '.OPTED_OUT';
    new.error_class := 'permanent';
    new.error_message := 'The recipient opted out of '
      || case new.channel when 'sms' then 'SMS' else 'WhatsApp' end;
    new.leased_until := null;
  end if;
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.claim_due_deliveries(p_limit integer DEFAULT 100, p_lease_seconds integer DEFAULT 60)
 RETURNS SETOF message_delivery_log
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids uuid[];
begin
  update public.message_delivery_log m
  set status = 'blocked', error_code = 'SMS.OPTED_OUT', error_class = 'permanent',
      error_message = 'The recipient opted out of SMS', leased_until = null, next_attempt_at = null
  where m.direction = 'outbound' and m.status in ('queued', 'unknown') and m.channel = 'sms'
    and m.purpose is distinct from 'keyword_reply'
    and coalesce(m.next_attempt_at, m.created_at) <= now()
    and (m.leased_until is null or m.leased_until <= now())
    and exists (select 1 from public.profiles p
                where (p.id = m.profile_id or p.phone_number = m.recipient) and not p.allows_sms);

  -- Round-robin across senders among the oldest due rows, so one busy sender's backlog never
  -- starves the others: each sender's first row, then each one's second, and so on. The order is
  -- fixed first as an array of ids; the rows are then locked through the primary key, a plan
  -- that stays fast whatever the statistics say about a freshly filled outbox.
  select array_agg(r.id order by r.turn, r.created_at, r.id) into v_ids
  from (
    select m.id, m.created_at,
           row_number() over (partition by coalesce(m.sender_key, m.channel)
                              order by m.next_attempt_at nulls first, m.created_at, m.id) as turn
    from (
      select c.id, c.created_at, c.next_attempt_at, c.sender_key, c.channel
      from public.message_delivery_log c
      where c.direction = 'outbound' and c.status in ('queued', 'unknown')
        and coalesce(c.next_attempt_at, c.created_at) <= now()
        and (c.leased_until is null or c.leased_until <= now())
      order by c.next_attempt_at nulls first, c.created_at, c.id
      limit p_limit * 20
    ) m
  ) r;
  if v_ids is null then
    return;
  end if;

  -- The due conditions are repeated on the locked row itself: under READ COMMITTED a row another
  -- dispatcher claimed after this statement's snapshot is re-checked against them (its new
  -- version is leased) and dropped, instead of being claimed twice.
  return query
  with due as (
    select m.id
    from unnest(v_ids) with ordinality as u(id, turn)
    join public.message_delivery_log m on m.id = u.id
    where m.direction = 'outbound' and m.status in ('queued', 'unknown')
      and coalesce(m.next_attempt_at, m.created_at) <= now()
      and (m.leased_until is null or m.leased_until <= now())
    order by u.turn
    limit p_limit
    for update of m skip locked
  )
  update public.message_delivery_log m
  set leased_until = now() + make_interval(secs => p_lease_seconds),
      attempts = m.attempts + 1
  from due
  where m.id = due.id
  returning m.*;
end;
$function$;

CREATE OR REPLACE FUNCTION public.enqueue_sms_fallback(p_delivery_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.message_delivery_log%rowtype;
  v_allows boolean;
  v_id uuid;
begin
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found or v_row.channel <> 'whatsapp' or v_row.status <> 'failed'
     or v_row.metadata -> 'fallback' ->> 'channel' is distinct from 'sms' then
    return null;
  end if;
  select p.allows_sms into v_allows from public.profiles p where p.id = v_row.profile_id;

  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, recipient, body,
    correlation_id, call_id, purpose, idempotency_key, fallback_of, attempts, next_attempt_at,
    error_code, error_class, error_message
  ) values (
    v_row.session_id, v_row.profile_id, 'sms', 'outbound', 'text',
    case when coalesce(v_allows, true) then 'queued' else 'blocked' end,
    v_row.recipient, v_row.metadata -> 'fallback' ->> 'body', v_row.correlation_id, v_row.call_id,
    coalesce(v_row.purpose, 'message') || '_fallback', 'fallback:' || v_row.id, v_row.id, 0, now(),
    case when coalesce(v_allows, true) then null else 'SMS.OPTED_OUT' end,
    case when coalesce(v_allows, true) then null else 'permanent' end,
    case when coalesce(v_allows, true) then null else 'The recipient opted out of SMS' end
  )
  on conflict (idempotency_key) do nothing
  returning m.id into v_id;
  if v_id is null then
    select m.id into v_id from public.message_delivery_log m
    where m.idempotency_key = 'fallback:' || v_row.id;
  end if;
  return v_id;
end;
$function$;

CREATE OR REPLACE FUNCTION public.record_sms_keyword(p_sender text, p_provider text, p_provider_message_id text, p_body text, p_keyword text, p_reply_body text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_only_when_opted_out boolean DEFAULT false)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, keyword_applied boolean, allows_sms boolean, changed boolean, reply_delivery_id uuid, reply_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
      case when v_reply_status = 'blocked' then 'SMS.OPTED_OUT' end,
      case when v_reply_status = 'blocked' then 'permanent' end,
      case when v_reply_status = 'blocked' then 'The recipient opted out of SMS' end
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into reply_delivery_id, reply_status;
  end if;

  return next;
end;
$function$;

update public.message_delivery_log
set error_code = case error_code when 'SMS_OPTED_OUT' then 'SMS.OPTED_OUT' else 'WHATSAPP.OPTED_OUT' end
where error_code in ('SMS_OPTED_OUT', 'WHATSAPP_OPTED_OUT');
