-- A WhatsApp-first post-call message that fails for good queues its SMS fallback, and the
-- use-case sends that fallback at once (paced, through the one outbound path) when
-- record_outbound_outcome answers its id. But the status trigger
-- (message_delivery_log_enqueue_fallback) inserts the fallback first, on the same update, so the
-- function's own call hit `on conflict do nothing` and answered null: the fallback waited for the
-- next dispatch round instead. enqueue_sms_fallback now answers the fallback's id whoever queued
-- it; claim_delivery still makes sure only one caller sends it.
begin;

create or replace function public.enqueue_sms_fallback(p_delivery_id uuid)
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
    case when coalesce(v_allows, true) then null else 'SMS_OPTED_OUT' end,
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

revoke all on function public.enqueue_sms_fallback(uuid) from public, anon, authenticated;
grant execute on function public.enqueue_sms_fallback(uuid) to service_role;

commit;
