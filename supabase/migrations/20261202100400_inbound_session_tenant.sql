-- An inbound message's new session is opened with its tenant. public.message_tenant gave the
-- session its tenant after the fact (`update omnichannel_sessions set tenant_id … where tenant_id
-- is null`, on the message row's insert): for every message that opened a conversation, a second
-- version of the session row written through all 9 of its indexes (tenant_id is indexed, so never
-- HOT), 0.18 ms of the 1.4 ms a new person's message costs to derive (measured with
-- pg_stat_statements over 5,925 new senders). record_inbound_message now resolves the tenant the
-- row will get (the WhatsApp number's account, else the default: the trigger's own rule) and
-- get_or_create_session_for_profile takes it (p_tenant_id) for a session it creates. Sessions
-- opened elsewhere (post-call, outbound) keep getting theirs from their first message.
--
-- The old signature is dropped (a second overload would make named calls ambiguous).
drop function public.get_or_create_session_for_profile(uuid, text, text, jsonb, text);

CREATE FUNCTION public.get_or_create_session_for_profile(p_profile_id uuid, p_channel text, p_call_id text DEFAULT NULL::text, p_context jsonb DEFAULT '{}'::jsonb, p_status text DEFAULT NULL::text, p_tenant_id uuid DEFAULT NULL::uuid)
 RETURNS TABLE(session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[], last_channel text, call_id text, expires_at timestamp with time zone, is_new boolean, has_whatsapp boolean, allows_sms boolean, whatsapp_summary_sent boolean, sms_summary_sent boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
#variable_conflict use_column
declare
  v_profile public.profiles;
  v_session public.omnichannel_sessions;
  v_is_new boolean := false;
begin
  if p_status = 'closed' then
    raise exception 'get_or_create_session_for_profile cannot close a session'
      using errcode = '22023', hint = 'use update_omnichannel_session_status';
  end if;

  -- Lock the profile; a profile merged away (before or while we waited) hands over to its survivor.
  select * into v_profile from public.profiles p where p.id = p_profile_id for update;
  for hop in 1..32 loop
    exit when v_profile.id is null or v_profile.merged_into is null;
    select * into v_profile from public.profiles p where p.id = v_profile.merged_into for update;
  end loop;
  if v_profile.id is null then
    raise exception 'profile % not found', p_profile_id using errcode = 'P0002';
  end if;
  if p_channel is not null and v_profile.last_active_channel is distinct from p_channel then
    update public.profiles p set last_active_channel = p_channel where p.id = v_profile.id;
    v_profile.last_active_channel := p_channel;
  end if;

  update public.omnichannel_sessions s
  set status = 'closed', closed_at = pg_catalog.now()
  where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at < pg_catalog.now();

  for attempt in 1..2 loop
    insert into public.omnichannel_sessions as s
      (profile_id, status, context, channels_seen, last_channel, call_id, tenant_id)
    values (v_profile.id, coalesce(p_status, 'active'), coalesce(p_context, '{}'::jsonb),
            array[p_channel], p_channel, p_call_id, p_tenant_id)
    on conflict (profile_id) where status <> 'closed' do nothing
    returning s.* into v_session;

    if found then
      v_is_new := true;
      exit;
    end if;

    update public.omnichannel_sessions s
    set context = s.context || coalesce(p_context, '{}'::jsonb),
        channels_seen = case when p_channel = any (s.channels_seen) then s.channels_seen
                             else pg_catalog.array_append(s.channels_seen, p_channel) end,
        last_channel = p_channel,
        call_id = coalesce(p_call_id, s.call_id),
        status = coalesce(p_status, s.status),
        expires_at = pg_catalog.now() + interval '24 hours',
        last_activity_at = pg_catalog.now()
    where s.profile_id = v_profile.id and s.status <> 'closed'
    returning s.* into v_session;

    exit when found;
  end loop;

  if v_session.id is null then
    raise exception 'could not get or create a session for profile %', v_profile.id
      using errcode = '40001';
  end if;

  return query select
    v_session.id, v_session.profile_id, v_session.status, v_session.context,
    v_session.channels_seen, v_session.last_channel, v_session.call_id, v_session.expires_at,
    v_is_new, v_profile.has_whatsapp, v_profile.allows_sms,
    v_session.whatsapp_summary_sent, v_session.sms_summary_sent;
end;
$function$;

create or replace function public.record_inbound_message(p_channel text, p_sender text, p_provider text, p_provider_message_id text, p_message_type text DEFAULT 'text'::text, p_body text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_whatsapp_jid text DEFAULT NULL::text, p_needs_reply boolean DEFAULT true, p_display_name text DEFAULT NULL::text, p_sender_kind text DEFAULT 'phone'::text)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_session record;
  v_id uuid;
  v_kind text := coalesce(p_sender_kind, 'phone');
  v_sender text;
  v_tenant uuid;
begin
  if p_provider_message_id is null or length(p_provider_message_id) = 0 then
    raise exception 'provider_message_id is required' using errcode = '22023';
  end if;
  v_sender := public.normalize_identity(v_kind, p_sender);

  -- The tenant the message's row will get (public.message_tenant: the WhatsApp number it
  -- reached, else the default), so a new session is opened with it instead of updated after.
  if p_channel = 'whatsapp' and p_metadata -> 'business' ->> 'phone_number_id' is not null then
    select a.tenant_id into v_tenant
    from public.channel_accounts a
    where a.kind = 'whatsapp' and a.external_id = p_metadata -> 'business' ->> 'phone_number_id';
  end if;
  v_tenant := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);

  if v_kind = 'phone' then
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile('phone', v_sender, p_channel), p_channel, null, '{}'::jsonb, null,
      v_tenant);
  else
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile(v_kind, v_sender, p_channel, p_display_name), p_channel, null,
      '{}'::jsonb, null, v_tenant);
  end if;

  if p_channel = 'whatsapp' then
    update public.profiles p
    set has_whatsapp = true,
        whatsapp_jid = coalesce(p_whatsapp_jid, p.whatsapp_jid),
        display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id;
  elsif p_display_name is not null then
    update public.profiles p set display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id and p.display_name is null;
  end if;

  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider,
    provider_message_id, sender, body, metadata, correlation_id, received_at, reply_state
  ) values (
    v_session.session_id, v_session.profile_id, p_channel, 'inbound', p_message_type, 'received',
    p_provider, p_provider_message_id, v_sender, p_body, coalesce(p_metadata, '{}'::jsonb),
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
$function$;


revoke execute on function public.get_or_create_session_for_profile(uuid, text, text, jsonb, text, uuid)
  from public, anon, authenticated;
grant execute on function public.get_or_create_session_for_profile(uuid, text, text, jsonb, text, uuid)
  to service_role;
