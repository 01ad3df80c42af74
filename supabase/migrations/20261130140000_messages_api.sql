-- The messaging API for other systems (the `messages` function): one API message is a person, a
-- route of channel steps decided when it was accepted (supabase/functions/_shared/messages/),
-- and the outbox rows that carried it, one per step tried. Each step is an ordinary outbound row
-- of message_delivery_log (paced, retried and dispatched like every send); a step that ends
-- failed or blocked (a permanent failure, an opt-out) queues the next step, once: the step's
-- row is keyed by 'api:<message id>:<step>', so a retried or concurrent advance finds it written.
--
-- Idempotency is per caller and key: a repeat answers the stored first answer; the same key with
-- another body (a different request hash) raises OM409. A caller's quota is a fixed window
-- counted here, so every isolate agrees.

create table public.api_messages (
  id uuid primary key default gen_random_uuid(),
  caller text not null,
  idempotency_key text not null,
  request_hash text not null,
  profile_id uuid references public.profiles (id) on delete set null,
  -- [{channel, recipient, message_type, body, metadata}], in the order they are tried.
  route jsonb not null,
  send_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  correlation_id text,
  response jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint api_messages_caller_key unique (caller, idempotency_key),
  constraint api_messages_route_is_array check (jsonb_typeof(route) = 'array' and jsonb_array_length(route) > 0),
  constraint api_messages_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);
create index api_messages_created_idx on public.api_messages (created_at desc, id desc);
create index api_messages_profile_created_idx on public.api_messages (profile_id, created_at desc, id desc);

alter table public.message_delivery_log
  add column api_message_id uuid references public.api_messages (id) on delete set null,
  add column route_step integer;
create index message_delivery_log_api_message_idx on public.message_delivery_log (api_message_id, route_step)
  where api_message_id is not null;
comment on column public.message_delivery_log.api_message_id is
  'The API message (public.api_messages) this row is a step of; route_step is its index in the route.';

create table public.api_caller_quotas (
  caller text primary key,
  window_start timestamptz not null,
  used integer not null
);

alter table public.api_messages enable row level security;
alter table public.api_caller_quotas enable row level security;
revoke all on table public.api_messages, public.api_caller_quotas from anon, authenticated;
grant select, insert, update, delete on table public.api_messages, public.api_caller_quotas to service_role;
create policy omnichannel_service_role_select on public.api_messages for select to service_role using (true);
create policy omnichannel_service_role_insert on public.api_messages for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.api_messages for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.api_messages for delete to service_role using (true);
create policy omnichannel_service_role_select on public.api_caller_quotas for select to service_role using (true);
create policy omnichannel_service_role_insert on public.api_caller_quotas for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.api_caller_quotas for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.api_caller_quotas for delete to service_role using (true);

-- One request of a caller against its quota: p_limit requests per p_window_seconds, the window
-- starting at the first request after the previous one ended. The row lock serialises callers'
-- isolates; allowed = false comes with the seconds until the window ends (Retry-After).
create or replace function public.take_api_quota(p_caller text, p_limit integer, p_window_seconds integer default 60)
returns table (allowed boolean, retry_after_seconds integer)
language sql
security invoker
set search_path = ''
as $$
  insert into public.api_caller_quotas as q (caller, window_start, used)
  values (p_caller, now(), 1)
  on conflict (caller) do update
  set window_start = case when q.window_start + make_interval(secs => p_window_seconds) <= now()
                          then now() else q.window_start end,
      used = case when q.window_start + make_interval(secs => p_window_seconds) <= now()
                  then 1 else q.used + 1 end
  returning q.used <= p_limit,
            greatest(1, ceil(extract(epoch from q.window_start + make_interval(secs => p_window_seconds) - now())))::integer
$$;

-- Writes the next step of an API message after step p_after_step (-1: the first), skipping steps
-- the person opted out of (written 'blocked', recorded like any step). A step already written is
-- not written again: answers null then, and when the route is exhausted. p_lease: the caller
-- sends the step itself now (the row is leased to it, as begin_outbound_message does); otherwise
-- the step is due for dispatch at send_at (or now).
create or replace function public.advance_api_message(p_message_id uuid, p_after_step integer, p_lease boolean default false)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_msg public.api_messages%rowtype;
  v_step integer := p_after_step + 1;
  v_route jsonb;
  v_session_id uuid;
  v_id uuid;
  v_status text;
begin
  select * into v_msg from public.api_messages a where a.id = p_message_id for update;
  if not found then
    return null;
  end if;
  if exists (select 1 from public.message_delivery_log m
             where m.api_message_id = p_message_id and m.route_step >= v_step) then
    return null;
  end if;
  select s.id into v_session_id from public.omnichannel_sessions s
  where s.profile_id = v_msg.profile_id and s.status <> 'closed' and s.expires_at > now();

  while v_step < jsonb_array_length(v_msg.route) loop
    v_route := v_msg.route -> v_step;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until, next_attempt_at,
      api_message_id, route_step, fallback_of
    ) values (
      v_session_id, v_msg.profile_id, v_route ->> 'channel', 'outbound',
      coalesce(v_route ->> 'message_type', 'text'), 'queued', v_route ->> 'recipient',
      v_route ->> 'body',
      coalesce(v_route -> 'metadata', '{}'::jsonb) || jsonb_build_object('api_message_id', v_msg.id),
      v_msg.correlation_id, coalesce(v_msg.metadata ->> 'purpose', 'api'),
      'api:' || v_msg.id || ':' || v_step,
      case when p_lease then 1 else 0 end,
      case when p_lease then now() + interval '2 minutes' end,
      case when not p_lease then greatest(coalesce(v_msg.send_at, now()), now()) end,
      v_msg.id, v_step,
      (select f.id from public.message_delivery_log f
       where f.api_message_id = v_msg.id and f.route_step = v_step - 1)
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into v_id, v_status;
    if v_id is null then
      return null;
    end if;
    if v_status <> 'blocked' then
      return v_id;
    end if;
    v_step := v_step + 1;
  end loop;
  return null;
end;
$$;

-- A step that ended failed (for good) or blocked hands the message to its next step.
create or replace function public.advance_api_message_on_failure()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform public.advance_api_message(new.api_message_id, new.route_step, false);
  return null;
end;
$$;

create trigger message_delivery_log_api_route
  after update of status on public.message_delivery_log
  for each row
  when (new.api_message_id is not null and new.status in ('failed', 'blocked')
        and old.status is distinct from new.status)
  execute function public.advance_api_message_on_failure();

-- The caller's inline send of the next step after p_after_step, when it is due now: the row,
-- leased to the caller (an opted-out person's row comes back blocked, and its next step is
-- written by the trigger above); nothing when dispatch holds it or there is none.
create or replace function public.claim_api_message_step(p_message_id uuid, p_after_step integer, p_lease_seconds integer default 120)
returns setof public.message_delivery_log
language sql
security invoker
set search_path = ''
as $$
  update public.message_delivery_log m
  set leased_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
  where m.id = (select n.id from public.message_delivery_log n
                where n.api_message_id = p_message_id and n.route_step > p_after_step
                order by n.route_step limit 1)
    and m.status = 'queued' and coalesce(m.next_attempt_at, now()) <= now()
    and (m.leased_until is null or m.leased_until <= now())
  returning m.*
$$;

-- Accepts an API message once per (caller, idempotency key) and writes its first step (leased to
-- the caller when it sends now). A repeat answers the first answer with is_new = false; the same
-- key with another request raises OM409 (IDEMPOTENCY.KEY_REUSED).
create or replace function public.accept_api_message(
  p_caller text,
  p_idempotency_key text,
  p_request_hash text,
  p_profile_id uuid,
  p_route jsonb,
  p_response jsonb,
  p_send_at timestamptz default null,
  p_metadata jsonb default '{}'::jsonb,
  p_correlation_id text default null
)
returns table (message_id uuid, is_new boolean, response jsonb, delivery_id uuid, delivery_status text, delivery_step integer)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_msg public.api_messages%rowtype;
  v_now boolean := p_send_at is null or p_send_at <= now();
begin
  insert into public.api_messages as a (
    caller, idempotency_key, request_hash, profile_id, route, send_at, metadata, correlation_id, response
  ) values (
    p_caller, p_idempotency_key, p_request_hash, p_profile_id, p_route,
    case when v_now then null else p_send_at end, coalesce(p_metadata, '{}'::jsonb), p_correlation_id,
    '{}'::jsonb
  )
  on conflict (caller, idempotency_key) do nothing
  returning * into v_msg;

  if v_msg.id is null then
    select * into v_msg from public.api_messages a
    where a.caller = p_caller and a.idempotency_key = p_idempotency_key;
    if v_msg.request_hash <> p_request_hash then
      raise exception 'idempotency key % was used with another request', p_idempotency_key
        using errcode = 'OM409', hint = 'IDEMPOTENCY.KEY_REUSED';
    end if;
    message_id := v_msg.id;
    is_new := false;
    response := v_msg.response;
    return next;
    return;
  end if;

  delivery_id := public.advance_api_message(v_msg.id, -1, v_now);
  select m.status, m.route_step into delivery_status, delivery_step
  from public.message_delivery_log m where m.id = delivery_id;
  response := p_response || jsonb_build_object('id', v_msg.id);
  update public.api_messages a set response = accept_api_message.response where a.id = v_msg.id;
  message_id := v_msg.id;
  is_new := true;
  return next;
end;
$$;

-- The first answer to (caller, idempotency key), if there was one: a repeat is answered before
-- anything is planned again.
create or replace function public.find_api_message(p_caller text, p_idempotency_key text)
returns table (message_id uuid, request_hash text, response jsonb)
language sql
stable
security invoker
set search_path = ''
as $$
  select a.id, a.request_hash, a.response from public.api_messages a
  where a.caller = p_caller and a.idempotency_key = p_idempotency_key
$$;

-- One API message with every step tried, each with its status history (the time it reached each
-- status); null when there is none.
create or replace function public.get_api_message(p_message_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'id', a.id,
    'profile_id', a.profile_id,
    'created_at', a.created_at,
    'send_at', a.send_at,
    'metadata', a.metadata,
    'route', (select coalesce(jsonb_agg(r ->> 'channel' order by o), '[]'::jsonb)
              from jsonb_array_elements(a.route) with ordinality e(r, o)),
    'channel', last.channel,
    'status', last.status,
    'steps', coalesce((
      select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'step', m.route_step,
        'delivery_id', m.id,
        'channel', m.channel,
        'status', m.status,
        'message_type', m.message_type,
        'provider_message_id', m.provider_message_id,
        'error', case when m.error_code is not null then jsonb_build_object(
          'code', m.error_code, 'class', m.error_class, 'message', m.error_message) end,
        'history', (
          select coalesce(jsonb_agg(jsonb_build_object('status', h.status, 'at', h.at) order by h.at, h.rank), '[]'::jsonb)
          from (values ('queued', m.queued_at, 0), ('sent', m.sent_at, 1), ('delivered', m.delivered_at, 2),
                       ('read', m.read_at, 3), ('failed', m.failed_at, 4),
                       ('blocked', case when m.status = 'blocked' then m.updated_at end, 5)) h(status, at, rank)
          where h.at is not null)
      )) order by m.route_step)
      from public.message_delivery_log m where m.api_message_id = a.id), '[]'::jsonb)
  )
  from public.api_messages a
  left join lateral (
    select m.channel, m.status from public.message_delivery_log m
    where m.api_message_id = a.id order by m.route_step desc limit 1
  ) last on true
  where a.id = p_message_id
$$;

-- A page of API messages, newest first, after the keyset cursor (created_at, id), filtered by
-- person and by the channel and status of each message's latest step.
create or replace function public.list_api_messages(
  p_limit integer,
  p_profile_id uuid default null,
  p_channel text default null,
  p_status text default null,
  p_before_created_at timestamptz default null,
  p_before_id uuid default null
)
returns table (id uuid, profile_id uuid, created_at timestamptz, send_at timestamptz, channel text, status text, steps integer,
               cursor_created_at text)
language sql
stable
security invoker
set search_path = ''
as $$
  -- cursor_created_at keeps the microseconds a JSON timestamp would lose.
  select a.id, a.profile_id, a.created_at, a.send_at, last.channel, last.status, last.steps,
         a.created_at::text
  from public.api_messages a
  cross join lateral (
    select m.channel, m.status, (m.route_step + 1)::integer as steps from public.message_delivery_log m
    where m.api_message_id = a.id order by m.route_step desc limit 1
  ) last
  where (p_profile_id is null or a.profile_id = p_profile_id)
    and (p_channel is null or last.channel = p_channel)
    and (p_status is null or last.status = p_status)
    and (p_before_created_at is null or (a.created_at, a.id) < (p_before_created_at, p_before_id))
  order by a.created_at desc, a.id desc
  limit least(greatest(p_limit, 1), 100)
$$;

-- What the routing needs to know about a person, in one round trip: their addresses, what they
-- allow, their last active channel and whether the WhatsApp window is open.
create or replace function public.api_message_recipient(p_profile_id uuid default null, p_phone_number text default null)
returns table (profile_id uuid, phone_number text, has_whatsapp boolean, allows_whatsapp boolean,
               allows_sms boolean, last_active_channel text, whatsapp_window_open boolean)
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_profile public.profiles%rowtype;
begin
  if p_profile_id is null and p_phone_number is not null then
    insert into public.profiles as p (phone_number) values (p_phone_number)
    on conflict (phone_number) do nothing;
    select * into v_profile from public.profiles p where p.phone_number = p_phone_number;
  else
    select * into v_profile from public.profiles p where p.id = p_profile_id;
  end if;
  if v_profile.id is null then
    return;
  end if;
  profile_id := v_profile.id;
  phone_number := v_profile.phone_number;
  has_whatsapp := v_profile.has_whatsapp;
  allows_whatsapp := v_profile.allows_whatsapp;
  allows_sms := v_profile.allows_sms;
  last_active_channel := v_profile.last_active_channel;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);
  return next;
end;
$$;

revoke execute on function public.take_api_quota(text, integer, integer) from public, anon, authenticated;
revoke execute on function public.advance_api_message(uuid, integer, boolean) from public, anon, authenticated;
revoke execute on function public.advance_api_message_on_failure() from public, anon, authenticated;
revoke execute on function public.accept_api_message(text, text, text, uuid, jsonb, jsonb, timestamptz, jsonb, text) from public, anon, authenticated;
revoke execute on function public.get_api_message(uuid) from public, anon, authenticated;
revoke execute on function public.find_api_message(text, text) from public, anon, authenticated;
revoke execute on function public.claim_api_message_step(uuid, integer, integer) from public, anon, authenticated;
revoke execute on function public.list_api_messages(integer, uuid, text, text, timestamptz, uuid) from public, anon, authenticated;
revoke execute on function public.api_message_recipient(uuid, text) from public, anon, authenticated;
grant execute on function public.take_api_quota(text, integer, integer) to service_role;
grant execute on function public.advance_api_message(uuid, integer, boolean) to service_role;
grant execute on function public.accept_api_message(text, text, text, uuid, jsonb, jsonb, timestamptz, jsonb, text) to service_role;
grant execute on function public.get_api_message(uuid) to service_role;
grant execute on function public.find_api_message(text, text) to service_role;
grant execute on function public.claim_api_message_step(uuid, integer, integer) to service_role;
grant execute on function public.list_api_messages(integer, uuid, text, text, timestamptz, uuid) to service_role;
grant execute on function public.api_message_recipient(uuid, text) to service_role;
