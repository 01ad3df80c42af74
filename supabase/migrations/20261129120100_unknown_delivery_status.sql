-- Ambiguous provider timeouts: a send that got no answer in time is 'unknown', not failed.
--
-- Providers give no idempotency key, so a retry of a send the provider accepted but answered
-- too late for is a second message. Every adapter now sends our row id where the provider echoes
-- it back: WhatsApp `biz_opaque_callback_data` (in status webhooks), Twilio's StatusCallback URL
-- (`?delivery_id=<id>`), MTN `clientCorrelatorId` (in delivery receipts). So:
--
-- Retry policy, amended (the rest is as in 20261122040000_reliable_delivery.sql):
--   a TIMEOUT keeps the row retryable but marks it 'unknown', and its next attempt waits at least
--   public.delivery_unknown_wait() (default 5 minutes; set per database with
--   `alter database <db> set omnichannel.unknown_delivery_wait = '10 minutes'`), long enough
--   for the provider's status callback. A callback that carries the row's id and finds no row
--   with its provider id records that id on the row and moves it to sent (or better): dispatch
--   never sends it again. Without a callback in time, the row is retried like any other
--   (at most 8 attempts within 30 minutes of the first), and stays 'unknown' until a send or a
--   callback says otherwise.
-- Status order (forward only, enforced by message_delivery_log_guard_status, whose definition
-- here is 20261129110000's plus 'unknown'):
--   queued -> unknown -> sent -> delivered -> read; failed, received and blocked are final.
--   An unknown SMS whose recipient has since opted out is blocked, never retried.
--
-- A send whose outcome cannot be written (after bounded retries in the caller) is parked with
-- public.park_outbound_outcome: sent with the provider id when the provider answered with one,
-- else unknown; either way dispatch does not send it again before the unknown wait.

alter table public.message_delivery_log drop constraint if exists message_delivery_log_status_check;
alter table public.message_delivery_log add constraint message_delivery_log_status_check
  check (status in ('queued', 'unknown', 'sent', 'delivered', 'read', 'failed', 'received', 'blocked'));

drop index if exists public.message_delivery_log_due_idx;
create index if not exists message_delivery_log_due_idx
  on public.message_delivery_log (next_attempt_at nulls first, created_at)
  where direction = 'outbound' and status in ('queued', 'unknown');

create or replace function public.delivery_unknown_wait()
returns interval
language sql
stable
set search_path = ''
as $$
  select coalesce(nullif(pg_catalog.current_setting('omnichannel.unknown_delivery_wait', true), '')::interval,
                  interval '5 minutes')
$$;

create or replace function public.message_delivery_log_guard_status()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_rank constant jsonb := '{"queued": 0, "unknown": 1, "sent": 2, "delivered": 3, "read": 4}';
  v_forward boolean;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      v_forward := false;
    else
      v_forward := case
        when old.status in ('failed', 'received', 'blocked', 'read') then false
        when new.status in ('unknown', 'sent', 'delivered', 'read')
          then (v_rank ->> new.status)::int > (v_rank ->> old.status)::int
        when new.status = 'failed' then old.status in ('queued', 'unknown', 'sent')
        when new.status = 'blocked' then old.status in ('queued', 'unknown')
        else false
      end;
      if not v_forward then
        -- As in 20261129110000: a refused move to failed leaves the error columns as they were.
        if new.status = 'failed' then
          new.error_code := old.error_code;
          new.error_message := old.error_message;
          new.error_class := old.error_class;
        end if;
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
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.message_delivery_log%rowtype;
  v_limits record;
  v_retry boolean;
  v_unknown boolean;
begin
  -- Lock order profile -> session -> delivery, the order begin_post_call_notification and
  -- get_or_create_omnichannel_session take them in, so concurrent requests cannot deadlock.
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  perform 1 from public.profiles p where p.id = v_row.profile_id for update;
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
      perform public.mark_omnichannel_summary_sent(v_row.session_id, v_row.channel);
    end if;
    -- WhatsApp is the richer channel: once it carried a call's summary, it stays the last active one.
    update public.profiles p
    set last_active_channel = case
          when v_row.channel = 'sms' and p.last_active_channel = 'whatsapp' and v_row.call_id is not null
               and exists (select 1 from public.message_delivery_log w
                           where w.call_id = v_row.call_id and w.channel = 'whatsapp'
                             and w.status in ('sent', 'delivered', 'read'))
            then 'whatsapp'
          else v_row.channel end
    where p.id = v_row.profile_id;
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

create or replace function public.claim_due_deliveries(
  p_limit integer default 100,
  p_lease_seconds integer default 60
)
returns setof public.message_delivery_log
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  update public.message_delivery_log m
  set status = 'blocked', error_code = 'SMS_OPTED_OUT', error_class = 'permanent',
      error_message = 'The recipient opted out of SMS', leased_until = null, next_attempt_at = null
  where m.direction = 'outbound' and m.status in ('queued', 'unknown') and m.channel = 'sms'
    and m.purpose is distinct from 'keyword_reply'
    and coalesce(m.next_attempt_at, m.created_at) <= now()
    and (m.leased_until is null or m.leased_until <= now())
    and exists (select 1 from public.profiles p
                where (p.id = m.profile_id or p.phone_number = m.recipient) and not p.allows_sms);

  -- Round-robin across senders among the oldest due rows, so one busy sender's backlog never
  -- starves the others: each sender's first row, then each one's second, and so on. The order is
  -- fixed first as an array of ids; the rows are then locked through the primary key, a plan
  -- that stays fast whatever the statistics say about a freshly filled outbox.
  select array_agg(r.id order by r.turn, r.created_at, r.id) into v_ids
  from (
    select m.id, m.created_at,
           row_number() over (partition by coalesce(m.sender_key, m.channel)
                              order by m.next_attempt_at nulls first, m.created_at, m.id) as turn
    from (
      select c.id, c.created_at, c.next_attempt_at, c.sender_key, c.channel
      from public.message_delivery_log c
      where c.direction = 'outbound' and c.status in ('queued', 'unknown')
        and coalesce(c.next_attempt_at, c.created_at) <= now()
        and (c.leased_until is null or c.leased_until <= now())
      order by c.next_attempt_at nulls first, c.created_at, c.id
      limit p_limit * 20
    ) m
  ) r;
  if v_ids is null then
    return;
  end if;

  -- The due conditions are repeated on the locked row itself: under READ COMMITTED a row another
  -- dispatcher claimed after this statement's snapshot is re-checked against them (its new
  -- version is leased) and dropped, instead of being claimed twice.
  return query
  with due as (
    select m.id
    from unnest(v_ids) with ordinality as u(id, turn)
    join public.message_delivery_log m on m.id = u.id
    where m.direction = 'outbound' and m.status in ('queued', 'unknown')
      and coalesce(m.next_attempt_at, m.created_at) <= now()
      and (m.leased_until is null or m.leased_until <= now())
    order by u.turn
    limit p_limit
    for update of m skip locked
  )
  update public.message_delivery_log m
  set leased_until = now() + make_interval(secs => p_lease_seconds),
      attempts = m.attempts + 1
  from due
  where m.id = due.id
  returning m.*;
end;
$$;

create or replace function public.release_deliveries(p_ids uuid[], p_at timestamptz default now())
returns integer
language sql
security invoker
set search_path = ''
as $$
  with released as (
    update public.message_delivery_log m
    set leased_until = null, next_attempt_at = p_at, attempts = greatest(m.attempts - 1, 0)
    where m.id = any (p_ids) and m.status in ('queued', 'unknown')
    returning 1
  )
  select count(*)::integer from released
$$;

-- The same, plus the row id a provider echoes back (p_delivery_id).
drop function if exists public.record_delivery_status(text, text, text, text, text, text, boolean, jsonb);
create or replace function public.record_delivery_status(
  p_channel text,
  p_provider_message_id text,
  p_status text,
  p_error_code text default null,
  p_error_message text default null,
  p_error_class text default null,
  p_not_on_channel boolean default false,
  p_metadata jsonb default '{}'::jsonb,
  p_delivery_id uuid default null
)
returns table (matched boolean, delivery_id uuid, previous_status text, current_status text)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_before text;
  v_id uuid;
  v_row public.message_delivery_log%rowtype;
begin
  if p_status not in ('sent', 'delivered', 'read', 'failed') then
    raise exception 'a delivery status is sent, delivered, read or failed, not %', p_status
      using errcode = '22023';
  end if;
  -- The row with this provider id; else the row whose id the provider echoed back
  -- (biz_opaque_callback_data, the StatusCallback's delivery_id, clientCorrelatorId) while we
  -- never learned the provider id: a send that timed out but was accepted.
  select m.id into v_id from public.message_delivery_log m
  where m.channel = p_channel and m.provider_message_id = p_provider_message_id
    and m.direction = 'outbound';
  if v_id is null and p_delivery_id is not null then
    select m.id into v_id from public.message_delivery_log m
    where m.id = p_delivery_id and m.channel = p_channel and m.direction = 'outbound'
      and m.provider_message_id is null;
  end if;
  -- Profile first, then the delivery: the lock order of every other writer of both.
  perform 1 from public.profiles p
  where p.id = (select m.profile_id from public.message_delivery_log m where m.id = v_id)
  for update;
  select m.status into v_before from public.message_delivery_log m where m.id = v_id for update;
  if not found then
    matched := false;
    return next;
    return;
  end if;

  update public.message_delivery_log m
  set status = p_status,
      provider_message_id = coalesce(m.provider_message_id, p_provider_message_id),
      -- A callback resolving an unknown send clears the timeout it was waiting on.
      error_code = case when p_status = 'failed' then coalesce(p_error_code, m.error_code)
                        when v_before = 'unknown' then null else m.error_code end,
      error_message = case when p_status = 'failed' then coalesce(p_error_message, m.error_message)
                           when v_before = 'unknown' then null else m.error_message end,
      error_class = case when p_status = 'failed' then coalesce(p_error_class, m.error_class, 'permanent')
                         when v_before = 'unknown' then null else m.error_class end,
      next_attempt_at = case when v_before = 'unknown' and p_status <> 'failed' then null
                             else m.next_attempt_at end,
      metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb)
  where m.id = v_id
  returning * into v_row;

  if p_status = 'failed' and p_not_on_channel and p_channel = 'whatsapp' and v_row.status = 'failed' then
    update public.profiles p set has_whatsapp = false where p.id = v_row.profile_id;
  end if;

  matched := true;
  delivery_id := v_row.id;
  previous_status := v_before;
  current_status := v_row.status;
  return next;
end;
$$;

create or replace function public.record_delivery_statuses(p_updates jsonb)
returns table (
  ordinal integer,
  matched boolean,
  delivery_id uuid,
  previous_status text,
  current_status text
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_update jsonb;
  v_i bigint;
begin
  if jsonb_typeof(p_updates) is distinct from 'array' then
    raise exception 'p_updates must be a JSON array' using errcode = '22023';
  end if;
  for v_update, v_i in select e.value, e.ordinality from jsonb_array_elements(p_updates) with ordinality e loop
    ordinal := v_i::integer;
    select r.matched, r.delivery_id, r.previous_status, r.current_status
    into matched, delivery_id, previous_status, current_status
    from public.record_delivery_status(
      v_update ->> 'channel',
      v_update ->> 'provider_message_id',
      v_update ->> 'status',
      v_update ->> 'error_code',
      v_update ->> 'error_message',
      v_update ->> 'error_class',
      coalesce((v_update ->> 'not_on_channel')::boolean, false),
      coalesce(v_update -> 'metadata', '{}'::jsonb),
      (v_update ->> 'delivery_id')::uuid
    ) r;
    return next;
  end loop;
end;
$$;

-- The last resort of a caller that could not record a send's outcome (record_outbound_outcomes
-- kept failing): one small update with nothing but ids, so dispatch does not send the message
-- again. With the provider's id the row is sent; without one (the provider refused, or we cannot
-- tell) it is unknown and waits for a callback before any retry.
create or replace function public.park_outbound_outcome(
  p_delivery_id uuid,
  p_provider text default null,
  p_provider_message_id text default null
)
returns text
language sql
security invoker
set search_path = ''
as $$
  update public.message_delivery_log m
  set status = case when p_provider_message_id is not null then 'sent' else 'unknown' end,
      provider = coalesce(p_provider, m.provider),
      provider_message_id = coalesce(m.provider_message_id, p_provider_message_id),
      next_attempt_at = case when p_provider_message_id is null
                             then now() + public.delivery_unknown_wait() end,
      leased_until = null
  where m.id = p_delivery_id and m.direction = 'outbound'
  returning m.status
$$;

do $$
declare
  v_fn text;
begin
  foreach v_fn in array array[
    'function public.delivery_unknown_wait()',
    'function public.park_outbound_outcome(uuid, text, text)',
    'function public.record_outbound_outcome(uuid, boolean, text, text, text, text, text, text, text, boolean, integer, jsonb, text)',
    'function public.claim_due_deliveries(integer, integer)',
    'function public.release_deliveries(uuid[], timestamptz)',
    'function public.record_delivery_status(text, text, text, text, text, text, boolean, jsonb, uuid)',
    'function public.record_delivery_statuses(jsonb)'
  ] loop
    execute format('revoke execute on %s from public, anon, authenticated', v_fn);
    execute format('grant execute on %s to service_role', v_fn);
  end loop;
end;
$$;
