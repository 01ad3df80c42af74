-- Omnichannel notification system: one conversation per person across voice, WhatsApp, SMS,
-- Messenger, Instagram and email.
--
-- Applies unchanged to Supabase's Postgres, to plain PostgreSQL 15+ and to PGlite (after
-- scripts/sql/bootstrap.sql created the Supabase roles and auth helpers there). The Supabase CLI
-- wraps this file in one transaction. Every function pins `search_path = ''` and names every
-- object with its schema, so nothing depends on the caller's search path.

-- ---------------------------------------------------------------------------------------------
-- Shared trigger function: keep updated_at honest without trusting callers to set it.
-- ---------------------------------------------------------------------------------------------
create or replace function public.omnichannel_set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- profiles: one row per person, keyed by phone number in E.164.
-- A Supabase project often has a `profiles` table already, so it is created if missing and
-- otherwise extended with the columns this system needs.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.profiles (
  id uuid primary key default gen_random_uuid()
);

alter table public.profiles
  -- The auth user, when the person also has an account. No foreign key: auth.users exists on
  -- Supabase but not on a bootstrapped PostgreSQL.
  add column if not exists user_id uuid,
  add column if not exists phone_number text,
  add column if not exists whatsapp_jid text,
  -- null = not known yet; learned from the first WhatsApp send or inbound message.
  add column if not exists has_whatsapp boolean,
  add column if not exists allows_sms boolean not null default true,
  add column if not exists display_name text,
  add column if not exists last_active_channel text,
  add column if not exists created_at timestamptz not null default pg_catalog.now(),
  add column if not exists updated_at timestamptz not null default pg_catalog.now();

do $profiles$
begin
  -- An existing profiles table keyed by auth.users may have an id without a default; the
  -- session function inserts profiles by phone number alone.
  if (select a.atthasdef from pg_catalog.pg_attribute a
      where a.attrelid = 'public.profiles'::regclass and a.attname = 'id') is false then
    alter table public.profiles alter column id set default gen_random_uuid();
  end if;

  -- `not valid`: rows of a pre-existing table are not re-checked, every new or updated row is.
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.profiles'::regclass
                   and conname = 'profiles_phone_number_e164') then
    alter table public.profiles add constraint profiles_phone_number_e164
      check (phone_number ~ '^\+[1-9][0-9]{6,14}$') not valid;
  end if;
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.profiles'::regclass
                   and conname = 'profiles_last_active_channel_check') then
    alter table public.profiles add constraint profiles_last_active_channel_check
      check (last_active_channel in ('voice', 'whatsapp', 'sms', 'messenger', 'instagram', 'email'))
      not valid;
  end if;
end
$profiles$;

create unique index if not exists profiles_phone_number_key on public.profiles (phone_number);
create index if not exists profiles_user_id_idx on public.profiles (user_id) where user_id is not null;

create or replace trigger profiles_set_updated_at
  before update on public.profiles
  for each row execute function public.omnichannel_set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- omnichannel_sessions: the conversation. At most one live (not closed) session per profile,
-- enforced by a partial unique index so concurrent webhooks cannot create two.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.omnichannel_sessions (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.profiles (id) on delete cascade,
  status text not null default 'active'
    constraint omnichannel_sessions_status_check check (status in ('active', 'closed', 'follow_up')),
  context jsonb not null default '{}'::jsonb
    constraint omnichannel_sessions_context_is_object check (jsonb_typeof(context) = 'object'),
  channels_seen text[] not null default '{}',
  last_channel text
    constraint omnichannel_sessions_last_channel_check
    check (last_channel in ('voice', 'whatsapp', 'sms', 'messenger', 'instagram', 'email')),
  call_id text,
  whatsapp_summary_sent boolean not null default false,
  whatsapp_summary_sent_at timestamptz,
  sms_summary_sent boolean not null default false,
  sms_summary_sent_at timestamptz,
  expires_at timestamptz not null default pg_catalog.now() + interval '24 hours',
  last_activity_at timestamptz not null default pg_catalog.now(),
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  closed_at timestamptz
);

create unique index if not exists omnichannel_sessions_one_live_per_profile
  on public.omnichannel_sessions (profile_id) where status <> 'closed';
-- The partial index above covers live sessions only; cascading deletes need all of them.
create index if not exists omnichannel_sessions_profile_id_idx
  on public.omnichannel_sessions (profile_id);
create index if not exists omnichannel_sessions_call_id_idx
  on public.omnichannel_sessions (call_id) where call_id is not null;
create index if not exists omnichannel_sessions_status_expires_at_idx
  on public.omnichannel_sessions (status, expires_at);

create or replace trigger omnichannel_sessions_set_updated_at
  before update on public.omnichannel_sessions
  for each row execute function public.omnichannel_set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- message_delivery_log: every message in and out, one row per message.
-- A provider message id is unique per channel, so a webhook delivered twice cannot create a
-- second row; an idempotency key does the same for our own sends before the provider answers.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.message_delivery_log (
  id uuid primary key default gen_random_uuid(),
  session_id uuid references public.omnichannel_sessions (id) on delete set null,
  profile_id uuid references public.profiles (id) on delete set null,
  channel text not null
    constraint message_delivery_log_channel_check
    check (channel in ('whatsapp', 'sms', 'messenger', 'instagram', 'email', 'voice')),
  direction text not null
    constraint message_delivery_log_direction_check check (direction in ('inbound', 'outbound')),
  message_type text not null default 'text',
  status text not null
    constraint message_delivery_log_status_check
    check (status in ('queued', 'sent', 'delivered', 'read', 'failed', 'received', 'blocked')),
  provider text,
  provider_message_id text,
  idempotency_key text,
  recipient text,
  sender text,
  body text,
  metadata jsonb not null default '{}'::jsonb
    constraint message_delivery_log_metadata_is_object check (jsonb_typeof(metadata) = 'object'),
  error_code text,
  error_class text
    constraint message_delivery_log_error_class_check
    check (error_class in ('retryable', 'permanent', 'window_closed')),
  error_message text,
  correlation_id text,
  attempts integer not null default 0 constraint message_delivery_log_attempts_check check (attempts >= 0),
  queued_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  failed_at timestamptz,
  received_at timestamptz,
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  -- Post-call notifications and leases (a sender holds a queued row until leased_until).
  call_id text,
  purpose text,
  next_attempt_at timestamptz,
  leased_until timestamptz,
  -- Inbound rows: whether the AI reply is owed.
  reply_state text
    check (reply_state in ('pending', 'in_progress', 'done', 'skipped')),
  -- Reliable delivery: pacing bucket, and the row a fallback or retry replaces.
  sender_key text,
  fallback_of uuid references public.message_delivery_log (id) on delete set null,
  retry_of uuid references public.message_delivery_log (id) on delete set null,
  constraint message_delivery_log_channel_provider_message_id_key unique (channel, provider_message_id),
  constraint message_delivery_log_idempotency_key_key unique (idempotency_key)
);

-- Conversation history of a session, newest last.
create index if not exists message_delivery_log_session_id_created_at_idx
  on public.message_delivery_log (session_id, created_at);
create index if not exists message_delivery_log_profile_id_idx
  on public.message_delivery_log (profile_id);
-- WhatsApp's 24-hour customer-service window: "last inbound message from this number".
create index if not exists message_delivery_log_inbound_window_idx
  on public.message_delivery_log (channel, direction, sender, created_at);
create index if not exists message_delivery_log_outbound_recipient_idx
  on public.message_delivery_log (channel, direction, recipient, created_at);
-- The dispatcher's queue.
create index if not exists message_delivery_log_queued_idx
  on public.message_delivery_log (created_at) where status = 'queued';
-- A call's post-call deliveries.
create index if not exists message_delivery_log_call_idx
  on public.message_delivery_log (call_id, channel, created_at desc)
  where call_id is not null;
-- Inbound messages whose AI reply is owed (claim_inbound_reply, list_pending_inbound_replies).
create index if not exists message_delivery_log_reply_due_idx
  on public.message_delivery_log (leased_until)
  where direction = 'inbound' and reply_state in ('pending', 'in_progress');
-- Outbound rows due for (re)sending (claim_due_deliveries).
create index if not exists message_delivery_log_due_idx
  on public.message_delivery_log (next_attempt_at nulls first, created_at)
  where direction = 'outbound' and status = 'queued';

comment on column public.message_delivery_log.purpose is
  'Why the message was sent (post_call_summary, ai_reply, ...); with call_id it finds a call''s deliveries.';
comment on column public.message_delivery_log.leased_until is
  'A sender holds a queued row until then; after it, the row may be claimed again (crash recovery).';
comment on column public.message_delivery_log.reply_state is
  'Inbound rows only: whether the AI reply is owed (pending), being written (in_progress, leased_until), done or skipped.';
comment on column public.message_delivery_log.sender_key is
  'The pacing bucket this message is sent through, e.g. whatsapp:<phone_number_id> or sms:mtn:<sender>.';

-- Status only moves forward: queued -> sent -> delivered -> read. failed, received and blocked
-- are final. Providers deliver status callbacks out of order (a 'delivered' can arrive after
-- 'read'), so a backwards or out-of-final update keeps the old status silently instead of
-- failing the webhook; a forward move stamps the matching *_at column. The same function stamps
-- the initial status on insert.
create or replace function public.message_delivery_log_guard_status()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_rank constant jsonb := '{"queued": 0, "sent": 1, "delivered": 2, "read": 3}';
  v_forward boolean;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      v_forward := false;
    else
      v_forward := case
        when old.status in ('failed', 'received', 'blocked', 'read') then false
        when new.status in ('sent', 'delivered', 'read')
          then (v_rank ->> new.status)::int > (v_rank ->> old.status)::int
        when new.status = 'failed' then old.status in ('queued', 'sent')
        when new.status = 'blocked' then old.status = 'queued'
        else false
      end;
      if not v_forward then
        new.status := old.status;
      end if;
    end if;
  end if;

  if tg_op = 'INSERT' or v_forward then
    case new.status
      when 'queued' then new.queued_at := coalesce(new.queued_at, pg_catalog.now());
      when 'sent' then new.sent_at := coalesce(new.sent_at, pg_catalog.now());
      when 'delivered' then new.delivered_at := coalesce(new.delivered_at, pg_catalog.now());
      when 'read' then new.read_at := coalesce(new.read_at, pg_catalog.now());
      when 'failed' then new.failed_at := coalesce(new.failed_at, pg_catalog.now());
      when 'received' then new.received_at := coalesce(new.received_at, pg_catalog.now());
      else null;
    end case;
  end if;

  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

create or replace trigger message_delivery_log_guard_status
  before insert or update on public.message_delivery_log
  for each row execute function public.message_delivery_log_guard_status();

-- ---------------------------------------------------------------------------------------------
-- call_summaries: written by the voice side when a call ends; post-call-notify reads it.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.call_summaries (
  id uuid primary key default gen_random_uuid(),
  call_id text not null constraint call_summaries_call_id_key unique,
  phone_number text,
  summary text,
  duration_seconds integer constraint call_summaries_duration_check check (duration_seconds >= 0),
  ended_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default pg_catalog.now()
);

-- ---------------------------------------------------------------------------------------------
-- Session functions. security invoker: the edge functions call them as service_role, which has
-- the table privileges they need; no caller gains rights through them.
-- ---------------------------------------------------------------------------------------------

-- One round trip for "a person reached us on a channel": upsert the profile by phone, close the
-- live session if it expired, then return the live session (extended, context merged, channel
-- recorded) or create one. Safe under concurrency: the profile upsert locks the profile row, and
-- the insert on the partial unique index means at most one live session exists even if that lock
-- were not there; a session closed between our insert and update is retried once.
create or replace function public.get_or_create_omnichannel_session(
  p_phone_number text,
  p_channel text,
  p_call_id text default null,
  p_context jsonb default '{}'::jsonb,
  p_status text default null
)
returns table (
  session_id uuid,
  profile_id uuid,
  status text,
  context jsonb,
  channels_seen text[],
  last_channel text,
  call_id text,
  expires_at timestamptz,
  is_new boolean,
  has_whatsapp boolean,
  allows_sms boolean,
  whatsapp_summary_sent boolean,
  sms_summary_sent boolean
)
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_profile public.profiles;
  v_session public.omnichannel_sessions;
  v_is_new boolean := false;
begin
  if p_status = 'closed' then
    raise exception 'get_or_create_omnichannel_session cannot close a session'
      using errcode = '22023', hint = 'use update_omnichannel_session_status';
  end if;

  insert into public.profiles as pr (phone_number, last_active_channel)
  values (p_phone_number, p_channel)
  on conflict (phone_number) do update set last_active_channel = excluded.last_active_channel
  returning pr.* into v_profile;

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

-- Closing stamps closed_at; any other status counts as activity and extends the expiry.
-- Reopening a closed session while the profile has another live one violates the one-live-session
-- index (unique_violation), which is the invariant doing its job.
create or replace function public.update_omnichannel_session_status(
  p_session_id uuid,
  p_status text
)
returns public.omnichannel_sessions
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_session public.omnichannel_sessions;
begin
  update public.omnichannel_sessions s
  set status = p_status,
      closed_at = case when p_status = 'closed' then coalesce(s.closed_at, pg_catalog.now()) end,
      expires_at = case when p_status = 'closed' then s.expires_at
                        else pg_catalog.now() + interval '24 hours' end,
      last_activity_at = case when p_status = 'closed' then s.last_activity_at
                              else pg_catalog.now() end
  where s.id = p_session_id
  returning s.* into v_session;

  if not found then
    raise exception 'omnichannel session % not found', p_session_id using errcode = 'P0002';
  end if;

  return v_session;
end;
$$;

-- Idempotent write of a message event: inserts the row, or, when a row with the same
-- (channel, provider_message_id) or idempotency_key exists, updates it: the status moves only
-- forward (the trigger decides), error fields and links are filled in, metadata is merged.
-- attempts is left alone: it counts send attempts and belongs to whoever sends.
create or replace function public.log_message_delivery(
  p_channel text,
  p_direction text,
  p_status text,
  p_provider text default null,
  p_provider_message_id text default null,
  p_body text default null,
  p_session_id uuid default null,
  p_profile_id uuid default null,
  p_message_type text default 'text',
  p_metadata jsonb default '{}'::jsonb,
  p_correlation_id text default null,
  p_error_code text default null,
  p_error_class text default null,
  p_error_message text default null,
  p_idempotency_key text default null,
  p_recipient text default null,
  p_sender text default null
)
returns public.message_delivery_log
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.message_delivery_log;
begin
  -- Two passes: a concurrent writer may insert the same message between our lookup and insert.
  for attempt in 1..2 loop
    update public.message_delivery_log m
    set status = p_status,
        provider = coalesce(p_provider, m.provider),
        provider_message_id = coalesce(p_provider_message_id, m.provider_message_id),
        idempotency_key = coalesce(p_idempotency_key, m.idempotency_key),
        body = coalesce(p_body, m.body),
        session_id = coalesce(p_session_id, m.session_id),
        profile_id = coalesce(p_profile_id, m.profile_id),
        metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb),
        correlation_id = coalesce(p_correlation_id, m.correlation_id),
        error_code = coalesce(p_error_code, m.error_code),
        error_class = coalesce(p_error_class, m.error_class),
        error_message = coalesce(p_error_message, m.error_message),
        recipient = coalesce(p_recipient, m.recipient),
        sender = coalesce(p_sender, m.sender)
    where m.id = (
      select e.id from public.message_delivery_log e
      where (p_idempotency_key is not null and e.idempotency_key = p_idempotency_key)
         or (p_provider_message_id is not null and e.channel = p_channel
             and e.provider_message_id = p_provider_message_id)
      -- Prefer our own key: it was written first, before the provider id was known.
      order by (e.idempotency_key is not distinct from p_idempotency_key) desc
      limit 1
    )
    returning m.* into v_row;

    if found then
      return v_row;
    end if;

    insert into public.message_delivery_log as m (
      channel, direction, status, provider, provider_message_id, body, session_id, profile_id,
      message_type, metadata, correlation_id, error_code, error_class, error_message,
      idempotency_key, recipient, sender
    ) values (
      p_channel, p_direction, p_status, p_provider, p_provider_message_id, p_body, p_session_id,
      p_profile_id, coalesce(p_message_type, 'text'), coalesce(p_metadata, '{}'::jsonb),
      p_correlation_id, p_error_code, p_error_class, p_error_message, p_idempotency_key,
      p_recipient, p_sender
    )
    on conflict do nothing
    returning m.* into v_row;

    if found then
      return v_row;
    end if;
  end loop;

  raise exception 'log_message_delivery: could not insert or update the message row'
    using errcode = '40001';
end;
$$;

-- Closes live sessions whose expiry passed, in batches so a backlog never holds one huge set of
-- row locks; rows another transaction is touching are skipped and picked up on the next run.
create or replace function public.cleanup_expired_omnichannel_sessions(
  p_batch_size integer default 5000
)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_total integer := 0;
  v_batch integer;
begin
  if p_batch_size is null or p_batch_size < 1 then
    raise exception 'p_batch_size must be positive' using errcode = '22023';
  end if;

  loop
    with due as (
      select s.id from public.omnichannel_sessions s
      where s.status in ('active', 'follow_up') and s.expires_at < pg_catalog.now()
      order by s.expires_at
      limit p_batch_size
      for update skip locked
    )
    update public.omnichannel_sessions s
    set status = 'closed', closed_at = pg_catalog.now()
    from due
    where s.id = due.id;

    get diagnostics v_batch = row_count;
    v_total := v_total + v_batch;
    exit when v_batch < p_batch_size;
  end loop;

  return v_total;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- Scheduled jobs: the one place the housekeeping schedule lives.
-- With pg_cron (Supabase, or PostgreSQL with pg_cron preloaded) public.sync_scheduled_jobs()
-- below hands each row to cron.schedule. Without it (PGlite, PostgreSQL without pg_cron) the
-- migration still applies and the local stack reads this table and runs each command on its
-- schedule. A later migration adds a job with an insert here and `select sync_scheduled_jobs()`.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.scheduled_jobs (
  name text primary key,
  schedule text not null,
  command text not null
);

insert into public.scheduled_jobs (name, schedule, command)
values ('omnichannel-cleanup-expired-sessions', '*/5 * * * *',
        'select public.cleanup_expired_omnichannel_sessions()')
on conflict (name) do update set schedule = excluded.schedule, command = excluded.command;

-- Schedules every row of public.scheduled_jobs with pg_cron, when pg_cron can run here: it is
-- available, preloaded, and this is its database (cron.database_name, default 'postgres');
-- elsewhere `create extension pg_cron` fails. Where those settings are not readable (a
-- non-superuser on hosted Supabase), pg_cron's own checks decide, inside a subtransaction so a
-- refusal leaves the migration intact. cron.schedule is idempotent by job name, so a later
-- migration that adds a row calls this again. Returns whether pg_cron runs the jobs; when not,
-- the local stack runs them. cron.* is reached through dynamic SQL built at run time so the
-- function compiles, and plpgsql_check (supabase db lint) passes, where pg_cron is absent.
create or replace function public.sync_scheduled_jobs()
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_usable boolean;
  v_job record;
begin
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron') then
    raise notice 'pg_cron is not installed: public.scheduled_jobs is run by the local stack';
    return false;
  end if;

  begin
    v_usable := 'pg_cron' = any (pg_catalog.string_to_array(pg_catalog.replace(
                  pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
                and pg_catalog.current_database()
                    = coalesce(pg_catalog.current_setting('cron.database_name', true), 'postgres');
  exception when insufficient_privilege then
    v_usable := null;
  end;

  if v_usable is false then
    raise notice 'pg_cron is not preloaded or this is not its database: public.scheduled_jobs is run by the local stack';
    return false;
  end if;

  begin
    create extension if not exists pg_cron with schema pg_catalog;
  exception when others then
    raise notice 'pg_cron refused (%): public.scheduled_jobs is run by the local stack', sqlerrm;
    return false;
  end;

  for v_job in select j.name, j.schedule, j.command from public.scheduled_jobs j order by j.name loop
    execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron')
      using v_job.name, v_job.schedule, v_job.command;
  end loop;
  return true;
end;
$$;

select public.sync_scheduled_jobs();

-- ---------------------------------------------------------------------------------------------
-- Row level security: on for every table, one policy per operation and role.
-- service_role (the edge functions) reads and writes everything; a signed-in user reads only
-- their own profile, sessions and messages; anon gets nothing.
-- ---------------------------------------------------------------------------------------------
alter table public.profiles enable row level security;
alter table public.omnichannel_sessions enable row level security;
alter table public.message_delivery_log enable row level security;
alter table public.call_summaries enable row level security;
alter table public.scheduled_jobs enable row level security;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['profiles', 'omnichannel_sessions', 'message_delivery_log',
                                 'call_summaries', 'scheduled_jobs'] loop
    foreach v_op in array array['select', 'insert', 'update', 'delete'] loop
      execute pg_catalog.format(
        'create policy %I on public.%I as permissive for %s to service_role %s',
        'omnichannel_service_role_' || v_op, v_table, v_op,
        case v_op when 'insert' then 'with check (true)'
                  when 'update' then 'using (true) with check (true)'
                  else 'using (true)' end);
    end loop;
  end loop;
end
$policies$;

create policy omnichannel_authenticated_select_own on public.profiles
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy omnichannel_authenticated_select_own on public.omnichannel_sessions
  for select to authenticated
  using (exists (select 1 from public.profiles p
                 where p.id = profile_id and p.user_id = (select auth.uid())));

create policy omnichannel_authenticated_select_own on public.message_delivery_log
  for select to authenticated
  using (exists (select 1 from public.profiles p
                 where p.id = profile_id and p.user_id = (select auth.uid())));

-- Explicit grants. Supabase's default privileges give anon and authenticated everything on new
-- tables in public; take that back and grant only what a policy uses. This also closes a
-- pre-existing profiles table to anon, whatever policies it carried.
grant usage on schema public to anon, authenticated, service_role;

revoke all on table public.profiles, public.omnichannel_sessions, public.message_delivery_log,
  public.call_summaries, public.scheduled_jobs from anon, authenticated;
grant select on table public.profiles, public.omnichannel_sessions, public.message_delivery_log
  to authenticated;
grant select, insert, update, delete on table public.profiles, public.omnichannel_sessions,
  public.message_delivery_log, public.call_summaries, public.scheduled_jobs to service_role;

revoke execute on function
  public.omnichannel_set_updated_at(),
  public.message_delivery_log_guard_status(),
  public.get_or_create_omnichannel_session(text, text, text, jsonb, text),
  public.update_omnichannel_session_status(uuid, text),
  public.log_message_delivery(text, text, text, text, text, text, uuid, uuid, text, jsonb, text,
                              text, text, text, text, text, text),
  public.cleanup_expired_omnichannel_sessions(integer),
  public.sync_scheduled_jobs()
  from public, anon, authenticated;
grant execute on function
  public.get_or_create_omnichannel_session(text, text, text, jsonb, text),
  public.update_omnichannel_session_status(uuid, text),
  public.log_message_delivery(text, text, text, text, text, text, uuid, uuid, text, jsonb, text,
                              text, text, text, text, text, text),
  public.cleanup_expired_omnichannel_sessions(integer)
  to service_role;
