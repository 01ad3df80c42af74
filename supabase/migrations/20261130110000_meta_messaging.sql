-- Messenger and Instagram (issue 11): the outbound rows to a page-scoped id, Meta's read and
-- delivery watermarks, the page's own messages (echoes), and the public profiles Meta gives.
--
-- People are found through public.profile_identities (kinds 'messenger' = PSID, 'instagram' =
-- IGSID; see the identities migration): public.resolve_profile gives the profile of an id,
-- creating it when the person is new. Rows to a person on these channels carry the id as
-- `recipient`, like a phone number on SMS.
--
-- The messaging window (24 h RESPONSE, 7 days HUMAN_AGENT) is decided at send time by the sender
-- (outbound/meta-window.ts) from `metadata.last_inbound_at`, which begin_meta_outbound_message
-- writes: when the person last wrote on that channel. A row whose window has closed is refused
-- without an HTTP call (META.WINDOW_CLOSED) and, when the person has a phone number, falls back
-- to SMS exactly as a failed WhatsApp message does (public.enqueue_sms_fallback, below).

-- ---------------------------------------------------------------- the public profiles Meta gives

create table public.meta_profiles (
  channel text not null check (channel in ('messenger', 'instagram')),
  external_id text not null,
  profile_id uuid not null references public.profiles (id) on delete cascade,
  name text,
  username text,
  profile_pic text,
  fetched_at timestamptz,
  fetch_started_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (channel, external_id)
);
create index meta_profiles_profile_id_idx on public.meta_profiles (profile_id);
comment on table public.meta_profiles is
  'Name, username and picture of a Messenger/Instagram person as Meta''s profile API gave them; refreshed at most daily (claim_meta_profile_refresh).';

alter table public.meta_profiles enable row level security;
create policy omnichannel_service_role_select on public.meta_profiles for select to service_role using (true);
create policy omnichannel_service_role_insert on public.meta_profiles for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.meta_profiles for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.meta_profiles for delete to service_role using (true);
create policy omnichannel_authenticated_select_own on public.meta_profiles for select to authenticated
  using (exists (select 1 from public.profiles p
                 where p.id = meta_profiles.profile_id and p.user_id = (select auth.uid())));
revoke all on table public.meta_profiles from public, anon, authenticated;
grant select on table public.meta_profiles to authenticated;
grant select, insert, update, delete on table public.meta_profiles to service_role;

create trigger meta_profiles_set_updated_at before update on public.meta_profiles
  for each row execute function public.omnichannel_set_updated_at();

-- True for the one caller that should fetch this person's profile now: never fetched, or fetched
-- more than a day ago, and nobody else fetching it (a fetch that died is taken over after 1 min).
create or replace function public.claim_meta_profile_refresh(
  p_channel text,
  p_external_id text,
  p_profile_id uuid
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_claimed boolean;
begin
  insert into public.meta_profiles as mp (channel, external_id, profile_id, fetch_started_at)
  values (p_channel, p_external_id, p_profile_id, now())
  on conflict (channel, external_id) do update
    set fetch_started_at = now(), profile_id = excluded.profile_id
    where (mp.fetched_at is null or mp.fetched_at < now() - interval '1 day')
      and (mp.fetch_started_at is null or mp.fetch_started_at < now() - interval '1 minute')
  returning true into v_claimed;
  return coalesce(v_claimed, false);
end;
$$;

-- Stores what the profile API said (a failed fetch stores nothing and is retried after a minute)
-- and names the person after it when they have no name yet.
create or replace function public.save_meta_profile(
  p_channel text,
  p_external_id text,
  p_name text default null,
  p_username text default null,
  p_profile_pic text default null
)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_profile uuid;
begin
  update public.meta_profiles mp
  set name = coalesce(p_name, mp.name),
      username = coalesce(p_username, mp.username),
      profile_pic = coalesce(p_profile_pic, mp.profile_pic),
      fetched_at = now(),
      fetch_started_at = null
  where mp.channel = p_channel and mp.external_id = p_external_id
  returning mp.profile_id into v_profile;
  if v_profile is not null and coalesce(p_name, p_username) is not null then
    -- The person may have been merged into another profile since the claim.
    update public.profiles p set display_name = coalesce(p.display_name, p_name, p_username)
    where p.id = public.profile_survivor(v_profile) and p.display_name is null;
  end if;
end;
$$;

-- ---------------------------------------------------------------- outbound to a PSID / IGSID

-- As public.begin_outbound_message, for a person known by a Messenger or Instagram id: the row
-- (queued, or the existing one for the same idempotency key), with `last_inbound_at` (when the
-- person last wrote on this channel: the sender decides the messaging window from it) and, when
-- the person has a phone number they allow SMS on, the SMS fallback of the text.
create or replace function public.begin_meta_outbound_message(
  p_channel text,
  p_recipient text,
  p_body text,
  p_session_id uuid default null,
  p_purpose text default null,
  p_correlation_id text default null,
  p_idempotency_key text default null,
  p_message_type text default 'text',
  p_metadata jsonb default '{}'
)
returns table (
  delivery_id uuid,
  session_id uuid,
  profile_id uuid,
  status text,
  is_new boolean,
  last_inbound_at timestamptz
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
  v_last timestamptz;
  v_metadata jsonb;
begin
  if p_channel not in ('messenger', 'instagram') then
    raise exception 'begin_meta_outbound_message is for messenger or instagram, not %', p_channel
      using errcode = '22023';
  end if;
  select * into v_profile from public.profiles p
  where p.id = public.resolve_profile(p_channel, p_recipient, p_channel);

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile.id) then
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  select max(m.created_at) into v_last from public.message_delivery_log m
  where m.channel = p_channel and m.direction = 'inbound' and m.sender = p_recipient;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    v_metadata := coalesce(p_metadata, '{}'::jsonb)
      || jsonb_build_object('last_inbound_at', v_last)
      || case when v_profile.phone_number is not null and v_profile.allows_sms
                   and p_message_type = 'text' and p_body is not null
              then jsonb_build_object('fallback', jsonb_build_object('channel', 'sms', 'body', p_body))
              else '{}'::jsonb end;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body,
      metadata, correlation_id, purpose, idempotency_key, attempts, leased_until
    ) values (
      v_session_id, v_profile.id, p_channel, 'outbound', p_message_type, 'queued',
      p_recipient, p_body, v_metadata, p_correlation_id, p_purpose, p_idempotency_key, 1,
      now() + interval '2 minutes'
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
  profile_id := v_row.profile_id;
  status := v_row.status;
  is_new := not v_existing;
  last_inbound_at := v_last;
  return next;
end;
$$;

-- The SMS fallback of a failed message, now also of a Messenger/Instagram one (to the person's
-- phone number: their row's recipient is a page-scoped id). Otherwise as 20261129140000.
create or replace function public.enqueue_sms_fallback(p_delivery_id uuid)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.message_delivery_log%rowtype;
  v_allows boolean;
  v_phone text;
  v_id uuid;
begin
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found or v_row.channel not in ('whatsapp', 'messenger', 'instagram')
     or v_row.status <> 'failed'
     or v_row.metadata -> 'fallback' ->> 'channel' is distinct from 'sms' then
    return null;
  end if;
  select p.allows_sms, p.phone_number into v_allows, v_phone
  from public.profiles p where p.id = v_row.profile_id;
  if v_row.channel <> 'whatsapp' then
    if v_phone is null then
      return null;
    end if;
    v_row.recipient := v_phone;
  end if;

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
$$;

-- ---------------------------------------------------------------- receipts by watermark

-- Messenger's delivery/read receipts and Instagram's messaging_seen: every outbound message to
-- the person on the channel sent at or before the watermark (ms since the epoch), and each one
-- named in p_mids, moves to p_status; forward only (the status guard refuses anything else), so a
-- late delivery never undoes a read. Profile rows are locked before delivery rows, as elsewhere.
-- Returns how many messages moved.
create or replace function public.apply_meta_receipt(
  p_channel text,
  p_person text,
  p_status text,
  p_watermark_ms bigint,
  p_mids text[] default '{}'
)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_at timestamptz := to_timestamp(p_watermark_ms / 1000.0);
  v_moved integer;
begin
  if p_status not in ('delivered', 'read') then
    raise exception 'a Meta receipt is delivered or read, not %', p_status using errcode = '22023';
  end if;
  perform 1 from public.profiles p
  where p.id in (select m.profile_id from public.message_delivery_log m
                 where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_person)
  order by p.id
  for update;
  with moved as (
    update public.message_delivery_log m
    set status = p_status,
        metadata = m.metadata || jsonb_build_object(p_channel || '_' || p_status || '_watermark', p_watermark_ms)
    where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_person
      and m.status in ('sent', 'delivered')
      and (p_status = 'read' or m.status = 'sent')
      and (m.sent_at <= v_at or m.provider_message_id = any (coalesce(p_mids, '{}')))
    returning 1
  )
  select count(*) into v_moved from moved;
  return v_moved;
end;
$$;

-- ---------------------------------------------------------------- echoes

-- A message the page sent (`is_echo`), recorded once: nothing when it is one of ours (its id
-- came back as Messenger's `metadata`, or its mid is already on a row, or — Instagram, which has
-- no metadata — one of our sends to that person is in flight, so the echo is most likely it);
-- otherwise (a person answering from the page's inbox, another app) an outbound row, `sent`,
-- in the person's live session, never answered. Echo rows keep the mid in metadata and take
-- `echo:<channel>:<mid>` as idempotency key rather than the provider id, so the outcome of our
-- own send arriving after its echo can never collide with the echo's row.
create or replace function public.record_meta_echo(
  p_channel text,
  p_recipient text,
  p_mid text,
  p_body text default null,
  p_metadata jsonb default '{}',
  p_delivery_id uuid default null,
  p_correlation_id text default null
)
returns table (delivery_id uuid, is_new boolean)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_profile uuid;
  v_session uuid;
  v_id uuid;
begin
  select m.id into v_id from public.message_delivery_log m
  where (p_delivery_id is not null and m.id = p_delivery_id)
     or (m.channel = p_channel and m.provider_message_id = p_mid)
     or m.idempotency_key = 'echo:' || p_channel || ':' || p_mid
  limit 1;
  if v_id is null and p_delivery_id is null then
    select m.id into v_id from public.message_delivery_log m
    where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_recipient
      and m.status in ('queued', 'unknown') and m.leased_until > now()
    limit 1;
  end if;
  if v_id is not null then
    delivery_id := v_id;
    is_new := false;
    return next;
    return;
  end if;

  v_profile := public.resolve_profile(p_channel, p_recipient, p_channel);
  select s.id into v_session from public.omnichannel_sessions s
  where s.profile_id = v_profile and s.status <> 'closed' and s.expires_at > now();
  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider, recipient, body,
    metadata, correlation_id, purpose, idempotency_key
  ) values (
    v_session, v_profile, p_channel, 'outbound', 'text', 'sent', p_channel, p_recipient, p_body,
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('mid', p_mid), p_correlation_id,
    'page_echo', 'echo:' || p_channel || ':' || p_mid
  )
  on conflict do nothing
  returning m.id into v_id;
  delivery_id := v_id;
  is_new := v_id is not null;
  if v_id is null then
    select m.id into delivery_id from public.message_delivery_log m
    where m.idempotency_key = 'echo:' || p_channel || ':' || p_mid;
  end if;
  return next;
end;
$$;

-- ---------------------------------------------------------------- AI replies on both channels

-- As 20261122040000, with Messenger and Instagram among the channels whose messages are answered.
create or replace function public.list_pending_inbound_replies(
  p_older_than_seconds integer default 60,
  p_limit integer default 20,
  p_max_age_seconds integer default 86400
)
returns table (delivery_id uuid, session_id uuid, channel text, sender text, correlation_id text, created_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select m.id, m.session_id, m.channel, m.sender, m.correlation_id, m.created_at
  from public.message_delivery_log m
  where m.direction = 'inbound'
    and m.channel in ('whatsapp', 'sms', 'messenger', 'instagram')
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= pg_catalog.now()))
    and m.created_at <= pg_catalog.now() - pg_catalog.make_interval(secs => p_older_than_seconds)
    and m.created_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_max_age_seconds)
    and m.session_id is not null
    and m.sender is not null
  order by m.created_at
  limit p_limit
$$;

revoke execute on function public.list_pending_inbound_replies(integer, integer, integer) from public, anon, authenticated;
grant execute on function public.list_pending_inbound_replies(integer, integer, integer) to service_role;

revoke execute on function public.claim_meta_profile_refresh(text, text, uuid) from public, anon, authenticated;
revoke execute on function public.save_meta_profile(text, text, text, text, text) from public, anon, authenticated;
revoke execute on function public.begin_meta_outbound_message(text, text, text, uuid, text, text, text, text, jsonb) from public, anon, authenticated;
revoke execute on function public.enqueue_sms_fallback(uuid) from public, anon, authenticated;
revoke execute on function public.apply_meta_receipt(text, text, text, bigint, text[]) from public, anon, authenticated;
revoke execute on function public.record_meta_echo(text, text, text, text, jsonb, uuid, text) from public, anon, authenticated;
grant execute on function public.claim_meta_profile_refresh(text, text, uuid) to service_role;
grant execute on function public.save_meta_profile(text, text, text, text, text) to service_role;
grant execute on function public.begin_meta_outbound_message(text, text, text, uuid, text, text, text, text, jsonb) to service_role;
grant execute on function public.enqueue_sms_fallback(uuid) to service_role;
grant execute on function public.apply_meta_receipt(text, text, text, bigint, text[]) to service_role;
grant execute on function public.record_meta_echo(text, text, text, text, jsonb, uuid, text) to service_role;
