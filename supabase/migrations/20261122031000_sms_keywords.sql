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
