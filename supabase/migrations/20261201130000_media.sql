-- Media (issues 13 and 14).
--
-- begin_outbound_message takes the row's metadata, so a media message (`metadata.media`: its
-- WhatsApp type, the signed link, caption, filename) is written whole when it is begun: a send
-- deferred by pacing, or retried by dispatch, sends the same media, never the caption as text.
-- The old signature is dropped (a second overload would make named calls ambiguous).
drop function public.begin_outbound_message(text, text, text, uuid, text, text, text, text);

create function public.begin_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid DEFAULT NULL::uuid, p_purpose text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_message_type text DEFAULT 'text'::text, p_metadata jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, status text, whatsapp_window_open boolean, has_whatsapp boolean, is_new boolean)
language plpgsql
security invoker
set search_path = ''
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

revoke execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.begin_outbound_message(text, text, text, uuid, text, text, text, text, jsonb)
  to service_role;

-- Where a received file was stored (bucket, path, mime, size, filename), on the message's row:
-- the console asks Storage for a fresh signed URL from it; the Genesys link expires in 1 h.
create function public.record_message_media(p_delivery_id uuid, p_object jsonb)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if jsonb_typeof(p_object) is distinct from 'object' then
    raise exception 'p_object must be a JSON object' using errcode = '22023';
  end if;
  update public.message_delivery_log m
  set metadata = m.metadata || jsonb_build_object('stored_media', p_object)
  where m.id = p_delivery_id;
  return found;
end;
$$;

revoke execute on function public.record_message_media(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.record_message_media(uuid, jsonb) to service_role;
