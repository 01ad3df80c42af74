-- Recording a send's outcome writes the person's rows only when something changes.
--
-- record_outbound_outcome rewrote the profile's last_active_channel after every sent message,
-- though it is nearly always the value already there (a new version of the row, its indexes and
-- its updated_at trigger, for nothing). It now reads the value with the row lock it already took
-- and writes only a different one.
--
-- record_outbound_outcomes (both outcomes of a post-call notification in one call) marked the
-- session's summary flag once per channel: two updates of the same session row in one
-- transaction. It now marks each session once, for every channel whose summary went out, after
-- the outcomes. record_outbound_outcome on its own still marks at once. Both share the body
-- below (record_outbound_outcome_row), so the rules are written once.

create or replace function public.record_outbound_outcome_row(
  p_delivery_id uuid,
  p_sent boolean,
  p_provider text,
  p_provider_message_id text,
  p_body text,
  p_message_type text,
  p_error_code text,
  p_error_class text,
  p_error_message text,
  p_not_on_channel boolean,
  p_retry_after_ms integer,
  p_metadata jsonb,
  p_sender_key text,
  p_mark_summary boolean
)
returns table (
  delivery_id uuid, status text, attempts integer, next_attempt_at timestamptz, fallback_id uuid,
  summary_session_id uuid, summary_channel text
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.message_delivery_log%rowtype;
  v_limits record;
  v_retry boolean;
  v_unknown boolean;
  v_last text;
  v_channel text;
begin
  -- Lock order profile -> session -> delivery, the order begin_post_call_notification and
  -- get_or_create_omnichannel_session take them in, so concurrent requests cannot deadlock.
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  select p.last_active_channel into v_last from public.profiles p where p.id = v_row.profile_id
  for update;
  perform 1 from public.omnichannel_sessions s where s.id = v_row.session_id for update;
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id for update;
  select * into v_limits from public.delivery_retry_limits();
  -- A status callback carrying this row's id already said the provider has it: a late
  -- failure (the timed-out attempt, or a retry racing the callback) changes nothing but the lease.
  if not p_sent and v_row.status in ('sent', 'delivered', 'read') then
    update public.message_delivery_log m set leased_until = null where m.id = p_delivery_id
    returning * into v_row;
    delivery_id := v_row.id;
    status := v_row.status;
    attempts := v_row.attempts;
    next_attempt_at := v_row.next_attempt_at;
    return next;
    return;
  end if;
  v_retry := not p_sent and p_error_class = 'retryable'
             and v_row.attempts < v_limits.max_attempts
             and now() < v_row.created_at + v_limits.retry_window;
  -- No answer in time: the provider may have accepted it. Once unknown, a row stays unknown
  -- until a callback or a later send says otherwise (the trigger keeps it from going back).
  v_unknown := v_retry and (p_error_code = 'TIMEOUT' or v_row.status = 'unknown');

  update public.message_delivery_log m
  set status = case when p_sent then 'sent' when v_unknown then 'unknown' when v_retry then 'queued' else 'failed' end,
      provider = coalesce(p_provider, m.provider),
      provider_message_id = coalesce(p_provider_message_id, m.provider_message_id),
      body = coalesce(p_body, m.body),
      message_type = coalesce(p_message_type, m.message_type),
      metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb),
      sender_key = coalesce(p_sender_key, m.sender_key),
      error_code = case when p_sent then null else p_error_code end,
      error_class = case when p_sent then null else p_error_class end,
      error_message = case when p_sent then null else p_error_message end,
      next_attempt_at = case when v_retry
                             then now() + greatest(
                               public.delivery_retry_delay(m.attempts, p_retry_after_ms),
                               case when p_error_code = 'TIMEOUT' then public.delivery_unknown_wait()
                                    else interval '0' end)
                             end,
      leased_until = null
  where m.id = p_delivery_id
  returning * into v_row;

  if p_sent then
    if v_row.purpose = 'post_call_summary' then
      if p_mark_summary then
        perform public.mark_omnichannel_summary_sent(v_row.session_id, v_row.channel);
      else
        summary_session_id := v_row.session_id;
        summary_channel := v_row.channel;
      end if;
    end if;
    -- WhatsApp is the richer channel: once it carried a call's summary, it stays the last active one.
    v_channel := case
      when v_row.channel = 'sms' and v_last = 'whatsapp' and v_row.call_id is not null
           and exists (select 1 from public.message_delivery_log w
                       where w.call_id = v_row.call_id and w.channel = 'whatsapp'
                         and w.status in ('sent', 'delivered', 'read'))
        then 'whatsapp'
      else v_row.channel end;
    if v_channel is distinct from v_last then
      update public.profiles p set last_active_channel = v_channel where p.id = v_row.profile_id;
    end if;
  elsif not v_retry then
    if p_not_on_channel and v_row.channel = 'whatsapp' then
      update public.profiles p set has_whatsapp = false where p.id = v_row.profile_id;
    end if;
    fallback_id := public.enqueue_sms_fallback(v_row.id);
  end if;

  delivery_id := v_row.id;
  status := v_row.status;
  attempts := v_row.attempts;
  next_attempt_at := v_row.next_attempt_at;
  return next;
end;
$$;

create or replace function public.record_outbound_outcome(
  p_delivery_id uuid,
  p_sent boolean,
  p_provider text,
  p_provider_message_id text default null,
  p_body text default null,
  p_message_type text default 'text',
  p_error_code text default null,
  p_error_class text default null,
  p_error_message text default null,
  p_not_on_channel boolean default false,
  p_retry_after_ms integer default null,
  p_metadata jsonb default null,
  p_sender_key text default null
)
returns table (delivery_id uuid, status text, attempts integer, next_attempt_at timestamptz, fallback_id uuid)
language sql
security invoker
set search_path = ''
as $$
  select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id
  from public.record_outbound_outcome_row(
    p_delivery_id, p_sent, p_provider, p_provider_message_id, p_body, p_message_type,
    p_error_code, p_error_class, p_error_message, p_not_on_channel, p_retry_after_ms,
    p_metadata, p_sender_key, true
  ) r;
$$;

create or replace function public.record_outbound_outcomes(p_outcomes jsonb)
returns table (
  ordinal integer,
  delivery_id uuid,
  status text,
  attempts integer,
  next_attempt_at timestamptz,
  fallback_id uuid
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_o jsonb;
  v_i bigint;
  v_session uuid;
  v_channel text;
  -- The summaries that went out, per session: marked once each after the outcomes.
  v_marks jsonb := '{}';
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  for v_o, v_i in select e.value, e.ordinality from jsonb_array_elements(p_outcomes) with ordinality e loop
    ordinal := v_i::integer;
    select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id,
           r.summary_session_id, r.summary_channel
    into delivery_id, status, attempts, next_attempt_at, fallback_id, v_session, v_channel
    from public.record_outbound_outcome_row(
      (v_o ->> 'delivery_id')::uuid,
      (v_o ->> 'sent')::boolean,
      v_o ->> 'provider',
      v_o ->> 'provider_message_id',
      v_o ->> 'body',
      v_o ->> 'message_type',
      v_o ->> 'error_code',
      v_o ->> 'error_class',
      v_o ->> 'error_message',
      coalesce((v_o ->> 'not_on_channel')::boolean, false),
      (v_o ->> 'retry_after_ms')::integer,
      nullif(v_o -> 'metadata', 'null'::jsonb),
      v_o ->> 'sender_key',
      false
    ) r;
    if v_session is not null then
      v_marks := jsonb_set(v_marks, array[v_session::text],
                           coalesce(v_marks -> v_session::text, '{}'::jsonb)
                             || jsonb_build_object(v_channel, true));
    end if;
    return next;
  end loop;

  -- Each session's row is already locked by its outcomes above.
  update public.omnichannel_sessions s
  set whatsapp_summary_sent = s.whatsapp_summary_sent or m.whatsapp,
      whatsapp_summary_sent_at = case when m.whatsapp then now() else s.whatsapp_summary_sent_at end,
      sms_summary_sent = s.sms_summary_sent or m.sms,
      sms_summary_sent_at = case when m.sms then now() else s.sms_summary_sent_at end
  from (
    select e.key::uuid as session_id,
           coalesce((e.value ->> 'whatsapp')::boolean, false) as whatsapp,
           coalesce((e.value ->> 'sms')::boolean, false) as sms
    from jsonb_each(v_marks) e
  ) m
  where s.id = m.session_id;
end;
$$;

revoke execute on function public.record_outbound_outcome_row(uuid, boolean, text, text, text, text, text, text, text, boolean, integer, jsonb, text, boolean)
  from public, anon, authenticated;
grant execute on function public.record_outbound_outcome_row(uuid, boolean, text, text, text, text, text, text, text, boolean, integer, jsonb, text, boolean)
  to service_role;
