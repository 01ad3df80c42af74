-- A known person's next message or call writes less (post-call, and every caller of
-- get_or_create_session_for_profile and resolve_profile).
--
-- resolve_profile('phone', …) was `insert … on conflict (phone_number) do update`: for a person
-- already known, a new version of their profile row on every call, to keep a display name that
-- was already there. It now reads the row by its phone number first and writes only to give it a
-- display name it lacks, or to create it.
--
-- get_or_create_session_for_profile tried to insert a new session first and, for a person with a
-- live conversation (the usual case), fell back to updating it after the unique index refused
-- the insert. It now updates the live conversation first and inserts only when there is none.
-- The person's row is locked first, as before, so the order changes no outcome.

create or replace function public.resolve_profile(
  p_kind text,
  p_value text,
  p_channel text default null,
  p_display_name text default null
)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_id uuid;
  v_name text;
begin
  if p_kind = 'phone' then
    select p.id, p.display_name into v_id, v_name from public.profiles p where p.phone_number = v_value;
    if found then
      if v_name is null and p_display_name is not null then
        update public.profiles p set display_name = p_display_name
        where p.id = v_id and p.display_name is null;
      end if;
      return v_id;
    end if;
    insert into public.profiles as p (phone_number, last_active_channel, display_name)
    values (v_value, p_channel, p_display_name)
    on conflict (phone_number) do update
      set display_name = coalesce(p.display_name, excluded.display_name)
    returning p.id into v_id;
    return v_id;
  end if;

  for attempt in 1..3 loop
    select i.profile_id into v_id from public.profile_identities i
    where i.kind = p_kind and i.value = v_value;
    if found then
      if p_display_name is not null then
        update public.profiles p set display_name = p_display_name
        where p.id = v_id and p.display_name is null;
      end if;
      return v_id;
    end if;

    insert into public.profiles as p (last_active_channel, display_name)
    values (p_channel, p_display_name)
    returning p.id into v_id;
    insert into public.profile_identities (kind, value, profile_id)
    values (p_kind, v_value, v_id)
    on conflict (kind, value) do nothing;
    if found then
      return v_id;
    end if;
    -- Another transaction created this identity first (and we waited for its commit): drop the
    -- profile we made and take theirs.
    delete from public.profiles p where p.id = v_id;
  end loop;
  raise exception 'could not resolve the % identity %', p_kind, v_value using errcode = '40001';
end;
$$;

create or replace function public.get_or_create_session_for_profile(
  p_profile_id uuid,
  p_channel text,
  p_call_id text default null,
  p_context jsonb default '{}'::jsonb,
  p_status text default null,
  p_tenant_id uuid default null
)
returns table (
  session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[],
  last_channel text, call_id text, expires_at timestamptz, is_new boolean, has_whatsapp boolean,
  allows_sms boolean, whatsapp_summary_sent boolean, sms_summary_sent boolean
)
language plpgsql
set search_path = ''
as $$
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
    -- The live conversation, when there is one (the usual case) …
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

    -- … else a new one (a writer that does not lock the profile may have made it meanwhile:
    -- then the unique index refuses this one and the next round updates theirs).
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
$$;
