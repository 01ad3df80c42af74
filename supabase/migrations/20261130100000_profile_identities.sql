-- One person, several identities: a phone number, a Messenger page-scoped id (PSID), an Instagram
-- scoped id (IGSID), an email address — all resolving to one profile, so one session spans every
-- channel. A profile may have no phone number (a person who only ever wrote on Messenger).
--
-- The phone stays where it always was, profiles.phone_number (E.164, unique); the other kinds
-- live in profile_identities, unique per (kind, value). The functions below address the phone as
-- kind 'phone' so callers need not care where it is kept.
--
-- When an identity turns out to belong to another profile (a Messenger user shares the phone
-- number someone already texted from), the two profiles are merged: identities, messages and
-- sessions move to the survivor, and the two live sessions become one (one live session per
-- person stays a database invariant). The merged-away profile stays as a tombstone
-- (merged_into), holding no identity, so rows of other tables that still point at it are not
-- cascaded away and anything resolved to it before the merge can follow the pointer.
--
-- Also: message_templates, per channel and locale, shared by email templates and the messaging
-- API's templates (WhatsApp templates are synced into it from Meta).

alter table public.profiles
  add column merged_into uuid references public.profiles (id) on delete set null,
  add column merged_at timestamptz;

comment on column public.profiles.merged_into is
  'Set when this profile was merged into another one (the same person): it then holds no identity and no live session.';

create table public.profile_identities (
  kind text not null,
  value text not null,
  profile_id uuid not null references public.profiles (id) on delete cascade,
  created_at timestamptz not null default now(),
  constraint profile_identities_pkey primary key (kind, value),
  constraint profile_identities_kind_check check (kind in ('messenger', 'instagram', 'email')),
  constraint profile_identities_value_not_blank check (length(btrim(value)) > 0 and length(value) <= 320),
  constraint profile_identities_email_lower check (kind <> 'email' or value = lower(value))
);
create index profile_identities_profile_id_idx on public.profile_identities (profile_id);

comment on table public.profile_identities is
  'Identities of a person other than the phone number (profiles.phone_number): Messenger PSID, Instagram IGSID, email address (lower case).';

alter table public.profile_identities enable row level security;
create policy omnichannel_service_role_select on public.profile_identities for select to service_role using (true);
create policy omnichannel_service_role_insert on public.profile_identities for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.profile_identities for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.profile_identities for delete to service_role using (true);
create policy omnichannel_authenticated_select_own on public.profile_identities for select to authenticated
  using (exists (select 1 from public.profiles p
                 where p.id = profile_identities.profile_id and p.user_id = (select auth.uid())));
revoke all on table public.profile_identities from anon, authenticated;
grant select on table public.profile_identities to authenticated;
grant select, insert, update, delete on table public.profile_identities to service_role;

-- The canonical form of an identity value: phone as given (callers normalise to E.164, the
-- profiles check enforces it), email lower-cased and trimmed, page-scoped ids trimmed.
create or replace function public.normalize_identity(p_kind text, p_value text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_kind is null or p_kind not in ('phone', 'messenger', 'instagram', 'email') then
    raise exception 'unknown identity kind %', coalesce(p_kind, 'null')
      using errcode = '22023', hint = 'phone, messenger, instagram or email';
  end if;
  if p_value is null or length(btrim(p_value)) = 0 then
    raise exception 'an identity of kind % needs a value', p_kind using errcode = '22023';
  end if;
  if p_kind = 'email' then
    return lower(btrim(p_value));
  end if;
  return btrim(p_value);
end;
$$;

-- The live profile a profile id stands for: itself, or where it was merged to.
create or replace function public.profile_survivor(p_profile_id uuid)
returns uuid
language sql
stable
set search_path = ''
as $$
  with recursive chain(id, merged_into, depth) as (
    select p.id, p.merged_into, 0 from public.profiles p where p.id = p_profile_id
    union all
    select p.id, p.merged_into, c.depth + 1
    from chain c join public.profiles p on p.id = c.merged_into
    where c.depth < 32
  )
  select c.id from chain c where c.merged_into is null order by c.depth limit 1
$$;

-- The profile holding an identity, or null.
create or replace function public.find_profile(p_kind text, p_value text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_id uuid;
begin
  if p_kind = 'phone' then
    select p.id into v_id from public.profiles p where p.phone_number = v_value;
  else
    select i.profile_id into v_id from public.profile_identities i
    where i.kind = p_kind and i.value = v_value;
  end if;
  return v_id;
end;
$$;

-- The profile holding this identity, created if none does. Safe under concurrency: two callers
-- racing on the same new identity get the same profile.
create or replace function public.resolve_profile(
  p_kind text, p_value text, p_channel text default null, p_display_name text default null)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_id uuid;
begin
  if p_kind = 'phone' then
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

-- Folds profile p_loser into p_survivor. Both rows must already be locked by the caller.
create or replace function public.merge_profiles(p_survivor uuid, p_loser uuid)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_s public.profiles;
  v_l public.profiles;
  v_live_s public.omnichannel_sessions;
  v_live_l public.omnichannel_sessions;
begin
  if p_survivor = p_loser then
    return p_survivor;
  end if;
  select * into v_s from public.profiles p where p.id = p_survivor;
  select * into v_l from public.profiles p where p.id = p_loser;
  if v_s.phone_number is not null and v_l.phone_number is not null
     and v_s.phone_number <> v_l.phone_number then
    raise exception 'profiles % and % have different phone numbers; not merged', p_survivor, p_loser
      using errcode = '23505', hint = 'a person has one phone number here; unlink one first';
  end if;

  -- Sessions: the loser's live session is folded into the survivor's (its messages move, its
  -- context and channels join), or becomes the survivor's live session if it has none.
  select * into v_live_s from public.omnichannel_sessions s
  where s.profile_id = p_survivor and s.status <> 'closed' for update;
  select * into v_live_l from public.omnichannel_sessions s
  where s.profile_id = p_loser and s.status <> 'closed' for update;
  if v_live_s.id is not null and v_live_l.id is not null then
    update public.omnichannel_sessions s
    set status = 'closed', closed_at = pg_catalog.now(),
        context = s.context || pg_catalog.jsonb_build_object('merged_into_session', v_live_s.id::text)
    where s.id = v_live_l.id;
    update public.message_delivery_log m set session_id = v_live_s.id
    where m.session_id = v_live_l.id;
    update public.omnichannel_sessions s
    set context = v_live_l.context || s.context,
        channels_seen = s.channels_seen || array(
          select c from pg_catalog.unnest(v_live_l.channels_seen) with ordinality as u(c, n)
          where c <> all (s.channels_seen) order by n),
        last_channel = case when v_live_l.last_activity_at > s.last_activity_at
                            then coalesce(v_live_l.last_channel, s.last_channel) else s.last_channel end,
        call_id = coalesce(s.call_id, v_live_l.call_id),
        whatsapp_summary_sent = s.whatsapp_summary_sent or v_live_l.whatsapp_summary_sent,
        sms_summary_sent = s.sms_summary_sent or v_live_l.sms_summary_sent,
        expires_at = greatest(s.expires_at, v_live_l.expires_at),
        last_activity_at = greatest(s.last_activity_at, v_live_l.last_activity_at)
    where s.id = v_live_s.id;
  end if;
  update public.omnichannel_sessions s set profile_id = p_survivor where s.profile_id = p_loser;
  update public.message_delivery_log m set profile_id = p_survivor where m.profile_id = p_loser;
  update public.profile_identities i set profile_id = p_survivor where i.profile_id = p_loser;

  -- Fields: the survivor's win; what it lacks comes from the loser; opt-outs are kept (either
  -- profile having said STOP means the person said STOP).
  update public.profiles p
  set phone_number = null, merged_into = p_survivor, merged_at = pg_catalog.now()
  where p.id = p_loser;
  update public.profiles p
  set phone_number = coalesce(p.phone_number, v_l.phone_number),
      user_id = coalesce(p.user_id, v_l.user_id),
      whatsapp_jid = coalesce(p.whatsapp_jid, v_l.whatsapp_jid),
      has_whatsapp = case when p.has_whatsapp or v_l.has_whatsapp then true
                          else coalesce(p.has_whatsapp, v_l.has_whatsapp) end,
      allows_sms = p.allows_sms and v_l.allows_sms,
      allows_whatsapp = p.allows_whatsapp and v_l.allows_whatsapp,
      display_name = coalesce(p.display_name, v_l.display_name),
      last_active_channel = coalesce(p.last_active_channel, v_l.last_active_channel)
  where p.id = p_survivor;
  return p_survivor;
end;
$$;

-- Attaches an identity to a person. When another profile already holds it, the two are the same
-- person and are merged; the surviving profile's id is returned (the one that has a phone number,
-- else the older one). Profiles are locked in id order, so concurrent links cannot deadlock.
create or replace function public.link_identity(p_profile_id uuid, p_kind text, p_value text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_profile uuid;
  v_holder uuid;
  v_a public.profiles;
  v_b public.profiles;
  v_survivor uuid;
begin
  for attempt in 1..5 loop
    v_profile := public.profile_survivor(p_profile_id);
    if v_profile is null then
      raise exception 'profile % not found', p_profile_id using errcode = 'P0002';
    end if;
    v_holder := public.find_profile(p_kind, v_value);

    if v_holder is null then
      begin
        perform 1 from public.profiles p where p.id = v_profile for update;
        if (select p.merged_into from public.profiles p where p.id = v_profile) is not null then
          continue; -- merged meanwhile: start over from the survivor
        end if;
        if p_kind = 'phone' then
          update public.profiles p set phone_number = v_value
          where p.id = v_profile and p.phone_number is null;
          if not found then
            raise exception 'profile % already has another phone number', v_profile
              using errcode = '23505', hint = 'a person has one phone number here';
          end if;
        else
          insert into public.profile_identities (kind, value, profile_id)
          values (p_kind, v_value, v_profile);
        end if;
        return v_profile;
      exception when unique_violation then
        -- Someone took the identity between our look and our write (and committed): merge.
        if p_kind = 'phone' and public.find_profile(p_kind, v_value) is null then
          raise;
        end if;
      end;
      continue;
    end if;

    if v_holder = v_profile then
      return v_profile;
    end if;

    -- Lock both in id order, then check neither was merged meanwhile.
    select * into v_a from public.profiles p where p.id = least(v_holder, v_profile) for update;
    select * into v_b from public.profiles p where p.id = greatest(v_holder, v_profile) for update;
    if v_a.merged_into is not null or v_b.merged_into is not null
       or public.find_profile(p_kind, v_value) is distinct from v_holder then
      continue;
    end if;
    v_survivor := case
      when v_a.phone_number is not null and v_b.phone_number is null then v_a.id
      when v_b.phone_number is not null and v_a.phone_number is null then v_b.id
      when v_a.created_at <= v_b.created_at then v_a.id
      else v_b.id end;
    return public.merge_profiles(v_survivor, case when v_survivor = v_a.id then v_b.id else v_a.id end);
  end loop;
  raise exception 'could not link the % identity to profile %', p_kind, p_profile_id
    using errcode = '40001';
end;
$$;

-- A person's address on a channel kind ('phone' -> the phone number), or null.
create or replace function public.profile_identity(p_profile_id uuid, p_kind text)
returns text
language sql
stable
set search_path = ''
as $$
  select case when p_kind = 'phone'
    then (select p.phone_number from public.profiles p where p.id = public.profile_survivor(p_profile_id))
    else (select i.value from public.profile_identities i
          where i.profile_id = public.profile_survivor(p_profile_id) and i.kind = p_kind
          order by i.created_at desc limit 1) end
$$;

-- The live session of a profile (following a merge), created or extended by activity on a
-- channel — what get_or_create_omnichannel_session does for a phone number.
create or replace function public.get_or_create_session_for_profile(
  p_profile_id uuid, p_channel text, p_call_id text default null,
  p_context jsonb default '{}'::jsonb, p_status text default null)
returns table (session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[],
               last_channel text, call_id text, expires_at timestamptz, is_new boolean,
               has_whatsapp boolean, allows_sms boolean, whatsapp_summary_sent boolean,
               sms_summary_sent boolean)
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
    insert into public.omnichannel_sessions as s
      (profile_id, status, context, channels_seen, last_channel, call_id)
    values (v_profile.id, coalesce(p_status, 'active'), coalesce(p_context, '{}'::jsonb),
            array[p_channel], p_channel, p_call_id)
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
$$;

-- Inbound recording, now for any identity kind: p_sender_kind 'phone' (SMS, WhatsApp; the
-- default) or 'messenger' / 'instagram' / 'email' (the sender is then a PSID, IGSID or address).
drop function public.record_inbound_messages(jsonb);
drop function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text);

create function public.record_inbound_message(
  p_channel text, p_sender text, p_provider text, p_provider_message_id text,
  p_message_type text default 'text', p_body text default null, p_metadata jsonb default '{}'::jsonb,
  p_correlation_id text default null, p_whatsapp_jid text default null,
  p_needs_reply boolean default true, p_display_name text default null,
  p_sender_kind text default 'phone')
returns table (delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_session record;
  v_id uuid;
  v_kind text := coalesce(p_sender_kind, 'phone');
  v_sender text;
begin
  if p_provider_message_id is null or length(p_provider_message_id) = 0 then
    raise exception 'provider_message_id is required' using errcode = '22023';
  end if;
  v_sender := public.normalize_identity(v_kind, p_sender);

  if v_kind = 'phone' then
    select * into v_session
    from public.get_or_create_omnichannel_session(v_sender, p_channel);
  else
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile(v_kind, v_sender, p_channel, p_display_name), p_channel);
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
$$;

create function public.record_inbound_messages(p_messages jsonb)
returns table (ordinal bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_m jsonb;
  v_ordinal bigint;
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  -- Sender order (kind, then id) so two batches touching the same people lock their profile and
  -- session rows in the same order.
  for v_m, v_ordinal in
    select e.m, e.n from jsonb_array_elements(p_messages) with ordinality as e(m, n)
    order by coalesce(e.m ->> 'sender_kind', 'phone'), e.m ->> 'sender', e.n
  loop
    return query
      select v_ordinal, r.delivery_id, r.session_id, r.profile_id, r.is_new, r.allows_sms
      from public.record_inbound_message(
        v_m ->> 'channel', v_m ->> 'sender', v_m ->> 'provider', v_m ->> 'provider_message_id',
        coalesce(v_m ->> 'message_type', 'text'), v_m ->> 'body',
        coalesce(v_m -> 'metadata', '{}'::jsonb), v_m ->> 'correlation_id',
        v_m ->> 'whatsapp_jid', coalesce((v_m ->> 'needs_reply')::boolean, true),
        v_m ->> 'display_name', coalesce(v_m ->> 'sender_kind', 'phone')) as r;
  end loop;
end;
$$;

-- Templates per channel and locale: email templates (subject, text, HTML) and the messaging
-- API's templates; WhatsApp templates are synced from Meta (status, category, components).
create table public.message_templates (
  id uuid not null default gen_random_uuid(),
  channel text not null,
  name text not null,
  locale text not null default 'en',
  status text not null default 'approved',
  category text,
  subject text,
  body_text text,
  body_html text,
  components jsonb not null default '[]'::jsonb,
  param_count integer not null default 0,
  provider_template_id text,
  synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint message_templates_pkey primary key (id),
  constraint message_templates_channel_name_locale_key unique (channel, name, locale),
  constraint message_templates_channel_check
    check (channel in ('whatsapp', 'sms', 'messenger', 'instagram', 'email')),
  constraint message_templates_status_check
    check (status in ('approved', 'pending', 'rejected', 'paused', 'disabled', 'in_appeal', 'deleted')),
  constraint message_templates_name_not_blank check (length(btrim(name)) > 0),
  constraint message_templates_param_count_check check (param_count >= 0),
  constraint message_templates_components_is_array check (jsonb_typeof(components) = 'array')
);
comment on table public.message_templates is
  'Message templates per channel and locale. status is Meta''s review status (lower case) for WhatsApp; local templates are approved.';

create trigger message_templates_set_updated_at before update on public.message_templates
  for each row execute function public.omnichannel_set_updated_at();

alter table public.message_templates enable row level security;
create policy omnichannel_service_role_select on public.message_templates for select to service_role using (true);
create policy omnichannel_service_role_insert on public.message_templates for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.message_templates for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.message_templates for delete to service_role using (true);
revoke all on table public.message_templates from anon, authenticated;
grant select, insert, update, delete on table public.message_templates to service_role;

revoke execute on function public.normalize_identity(text, text) from public, anon, authenticated;
revoke execute on function public.profile_survivor(uuid) from public, anon, authenticated;
revoke execute on function public.find_profile(text, text) from public, anon, authenticated;
revoke execute on function public.resolve_profile(text, text, text, text) from public, anon, authenticated;
revoke execute on function public.merge_profiles(uuid, uuid) from public, anon, authenticated;
revoke execute on function public.link_identity(uuid, text, text) from public, anon, authenticated;
revoke execute on function public.profile_identity(uuid, text) from public, anon, authenticated;
revoke execute on function public.get_or_create_session_for_profile(uuid, text, text, jsonb, text) from public, anon, authenticated;
revoke execute on function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text, text) from public, anon, authenticated;
revoke execute on function public.record_inbound_messages(jsonb) from public, anon, authenticated;

grant execute on function public.normalize_identity(text, text) to service_role;
grant execute on function public.profile_survivor(uuid) to service_role;
grant execute on function public.find_profile(text, text) to service_role;
grant execute on function public.resolve_profile(text, text, text, text) to service_role;
grant execute on function public.merge_profiles(uuid, uuid) to service_role;
grant execute on function public.link_identity(uuid, text, text) to service_role;
grant execute on function public.profile_identity(uuid, text) to service_role;
grant execute on function public.get_or_create_session_for_profile(uuid, text, text, jsonb, text) to service_role;
grant execute on function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text, text) to service_role;
grant execute on function public.record_inbound_messages(jsonb) to service_role;
