-- Reliable delivery: message_delivery_log is also the outbox.
--
-- Retry policy (one place: public.delivery_retry_delay and public.delivery_retry_limits):
--   a retryable failure (network, timeout, 5xx, 429, WhatsApp 130429/131056) keeps the row
--   'queued' with next_attempt_at = now() + 15 s * 2^(attempt-1), capped at 10 min, with +-20 %
--   jitter (or the provider's Retry-After when that is longer); at most 8 attempts within 30
--   minutes of the first, then 'failed' for good with the last error. Permanent and
--   window-closed errors are never retried.
-- Dispatch claims due rows with `for update skip locked` under a lease; a crashed dispatcher's
-- rows become due again when the lease ends. Pacing is a token bucket per sender held here, so
-- every isolate shares it. A WhatsApp message whose metadata carries a fallback gets its SMS
-- version at most once (unique idempotency key 'fallback:<id>').

-- ------------------------------------------------------------------------------------------
-- Retry policy
-- ------------------------------------------------------------------------------------------
create or replace function public.delivery_retry_limits(
  out max_attempts integer,
  out retry_window interval
)
language sql
immutable
set search_path = ''
as $$ select 8, interval '30 minutes' $$;

create or replace function public.delivery_retry_delay(p_attempt integer, p_retry_after_ms integer default null)
returns interval
language sql
volatile
set search_path = ''
as $$
  select greatest(
    make_interval(secs => least(600, 15 * power(2, greatest(p_attempt, 1) - 1))
                          * (0.8 + 0.4 * random())),
    make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0)
  )
$$;

-- ------------------------------------------------------------------------------------------
-- Outcomes
-- ------------------------------------------------------------------------------------------

-- Records what a provider answered for one claimed outbound delivery. Sent: the post-call
-- summary flag and the profile's last active channel. A retryable failure within the policy:
-- the row stays queued with the next attempt time. Otherwise failed for good; a "not on
-- WhatsApp" failure teaches the profile, and a WhatsApp message with a fallback gets its SMS.
-- Returns the row as it now is plus the fallback row's id when one was queued.
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
  v_retry := not p_sent and p_error_class = 'retryable'
             and v_row.attempts < v_limits.max_attempts
             and now() < v_row.created_at + v_limits.retry_window;

  update public.message_delivery_log m
  set status = case when p_sent then 'sent' when v_retry then 'queued' else 'failed' end,
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
                             then now() + public.delivery_retry_delay(m.attempts, p_retry_after_ms)
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

-- Outcomes in one round trip (dispatch records a sender's batch at once; a single send is a
-- batch of one), each exactly as record_outbound_outcome records it, in order.
create or replace function public.record_outbound_outcomes(p_outcomes jsonb)
returns table (
  ordinal integer,
  delivery_id uuid,
  status text,
  attempts integer,
  next_attempt_at timestamptz,
  fallback_id uuid
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_o jsonb;
  v_i bigint;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  for v_o, v_i in select e.value, e.ordinality from jsonb_array_elements(p_outcomes) with ordinality e loop
    ordinal := v_i::integer;
    select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id
    into delivery_id, status, attempts, next_attempt_at, fallback_id
    from public.record_outbound_outcome(
      (v_o ->> 'delivery_id')::uuid,
      (v_o ->> 'sent')::boolean,
      v_o ->> 'provider',
      v_o ->> 'provider_message_id',
      v_o ->> 'body',
      v_o ->> 'message_type',
      v_o ->> 'error_code',
      v_o ->> 'error_class',
      v_o ->> 'error_message',
      coalesce((v_o ->> 'not_on_channel')::boolean, false),
      (v_o ->> 'retry_after_ms')::integer,
      nullif(v_o -> 'metadata', 'null'::jsonb),
      v_o ->> 'sender_key'
    ) r;
    return next;
  end loop;
end;
$$;

-- Queues the SMS version of a failed WhatsApp message whose metadata asks for one
-- ({"fallback": {"channel": "sms", "body": "..."}}), at most once: the idempotency key
-- 'fallback:<whatsapp delivery id>' is unique, so a late status, a retry or a second dispatcher
-- finds the fallback already there. An opted-out person gets a 'blocked' row, never an SMS.
create or replace function public.enqueue_sms_fallback(p_delivery_id uuid)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
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
  return v_id;
end;
$$;

-- Status callbacks: a WhatsApp 'failed' status for a message with a fallback queues its SMS
-- (once), exactly like a failed send does.
create or replace function public.enqueue_fallback_on_failed_status()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if new.status = 'failed' and old.status is distinct from 'failed' and new.channel = 'whatsapp'
     and new.direction = 'outbound' and new.metadata ? 'fallback' then
    perform public.enqueue_sms_fallback(new.id);
  end if;
  return null;
end;
$$;

create trigger message_delivery_log_fallback
  after update of status on public.message_delivery_log
  for each row execute function public.enqueue_fallback_on_failed_status();

-- ------------------------------------------------------------------------------------------
-- Dispatch
-- ------------------------------------------------------------------------------------------

-- Claims up to p_limit due outbound rows (queued, next attempt due, not leased) and leases them.
-- `for update skip locked`: concurrent dispatchers each get different rows and never wait.
-- An SMS queued before its recipient opted out is never sent: it becomes 'blocked' here
-- (except the opt-out confirmation itself, purpose 'keyword_reply').
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
  where m.direction = 'outbound' and m.status = 'queued' and m.channel = 'sms'
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
      where c.direction = 'outbound' and c.status = 'queued'
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
    where m.direction = 'outbound' and m.status = 'queued'
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

-- Claims one queued row by id (a fallback the caller sends right away): true for exactly one
-- claimer while the lease runs, so a dispatcher cannot send it too.
create or replace function public.claim_delivery(p_delivery_id uuid, p_lease_seconds integer default 60)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with claimed as (
    update public.message_delivery_log m
    set leased_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
    where m.id = p_delivery_id and m.direction = 'outbound' and m.status = 'queued'
      and (m.leased_until is null or m.leased_until <= now())
    returning 1
  )
  select exists (select 1 from claimed)
$$;

-- Gives claimed rows back without sending them (no pacing token in time): due again at p_at,
-- and the claim does not count as an attempt.
create or replace function public.release_deliveries(p_ids uuid[], p_at timestamptz default now())
returns integer
language sql
security invoker
set search_path = ''
as $$
  with released as (
    update public.message_delivery_log m
    set leased_until = null, next_attempt_at = p_at, attempts = greatest(m.attempts - 1, 0)
    where m.id = any (p_ids) and m.status = 'queued'
    returning 1
  )
  select count(*)::integer from released
$$;

-- Manual retry of a message that failed for good: a new queued row with the same content
-- (the failed row stays as history), due now. Returns the new row's id.
create or replace function public.retry_delivery(p_delivery_id uuid)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.message_delivery_log%rowtype;
  v_id uuid;
begin
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  if v_row.direction <> 'outbound' or v_row.status <> 'failed' then
    raise exception 'only a failed outbound message can be retried (this one is % %)',
      v_row.direction, v_row.status using errcode = '22023';
  end if;
  insert into public.message_delivery_log (
    session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
    correlation_id, call_id, purpose, sender_key, retry_of, attempts, next_attempt_at
  ) values (
    v_row.session_id, v_row.profile_id, v_row.channel, 'outbound', v_row.message_type, 'queued',
    v_row.recipient, v_row.body, v_row.metadata, v_row.correlation_id, v_row.call_id,
    v_row.purpose, v_row.sender_key, v_row.id, 0, now()
  )
  returning id into v_id;
  return v_id;
end;
$$;

-- ------------------------------------------------------------------------------------------
-- Pacing: a token bucket per sender, shared by every isolate
-- ------------------------------------------------------------------------------------------
create table if not exists public.sender_rate_limits (
  sender_key text primary key,
  rate_per_second double precision not null check (rate_per_second > 0),
  burst double precision not null check (burst >= 1),
  tokens double precision not null,
  refilled_at timestamptz not null default now(),
  -- A 429 halves the rate until then; the bucket also starts empty.
  slowed_until timestamptz,
  updated_at timestamptz not null default now()
);

comment on table public.sender_rate_limits is
  'Token bucket per sender (WhatsApp phone number id, SMS sender). Defaults: 80/s for WhatsApp, set per SMS sender with set_sender_rate.';

alter table public.sender_rate_limits enable row level security;
revoke all on table public.sender_rate_limits from anon, authenticated;
grant select, insert, update, delete on table public.sender_rate_limits to service_role;
create policy sender_rate_limits_service_select on public.sender_rate_limits
  for select to service_role using (true);
create policy sender_rate_limits_service_insert on public.sender_rate_limits
  for insert to service_role with check (true);
create policy sender_rate_limits_service_update on public.sender_rate_limits
  for update to service_role using (true) with check (true);
create policy sender_rate_limits_service_delete on public.sender_rate_limits
  for delete to service_role using (true);

create or replace function public.set_sender_rate(
  p_sender_key text,
  p_rate_per_second double precision,
  p_burst double precision default null
)
returns void
language sql
security invoker
set search_path = ''
as $$
  insert into public.sender_rate_limits (sender_key, rate_per_second, burst, tokens)
  values (p_sender_key, p_rate_per_second, coalesce(p_burst, greatest(1, p_rate_per_second / 10)),
          coalesce(p_burst, greatest(1, p_rate_per_second / 10)))
  on conflict (sender_key) do update
  set rate_per_second = excluded.rate_per_second, burst = excluded.burst, updated_at = now()
$$;

-- Takes up to p_wanted tokens from the sender's bucket (created at p_default_rate when new).
-- Returns how many were granted and, when fewer than wanted, how long until the next one.
-- The row lock makes it atomic across isolates: no two callers spend the same token.
create or replace function public.take_send_tokens(
  p_sender_key text,
  p_wanted integer,
  p_default_rate double precision default 80
)
returns table (granted integer, wait_ms integer)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_b public.sender_rate_limits%rowtype;
  v_rate double precision;
  v_tokens double precision;
begin
  insert into public.sender_rate_limits (sender_key, rate_per_second, burst, tokens)
  values (p_sender_key, p_default_rate, greatest(1, p_default_rate / 10), greatest(1, p_default_rate / 10))
  on conflict (sender_key) do nothing;
  select * into v_b from public.sender_rate_limits r where r.sender_key = p_sender_key for update;

  v_rate := case when v_b.slowed_until > now() then v_b.rate_per_second / 2 else v_b.rate_per_second end;
  v_tokens := least(v_b.burst,
                    v_b.tokens + extract(epoch from (clock_timestamp() - v_b.refilled_at)) * v_rate);
  granted := greatest(0, least(p_wanted, floor(v_tokens)::integer));
  v_tokens := v_tokens - granted;
  update public.sender_rate_limits r
  set tokens = v_tokens, refilled_at = clock_timestamp(), updated_at = now()
  where r.sender_key = p_sender_key;
  wait_ms := case when granted < p_wanted then ceil((1 - v_tokens) / v_rate * 1000)::integer else 0 end;
  return next;
end;
$$;

-- One token from each of several senders in one round trip (a post-call summary paces its
-- WhatsApp and its SMS sender together). Keys are locked in order, so two callers never deadlock.
create or replace function public.take_send_token_each(
  p_sender_keys text[],
  p_default_rates double precision[]
)
returns table (sender_key text, granted integer, wait_ms integer)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_i integer;
  v_order integer[];
begin
  select array_agg(i order by p_sender_keys[i]) into v_order
  from generate_subscripts(p_sender_keys, 1) as i;
  foreach v_i in array coalesce(v_order, '{}') loop
    sender_key := p_sender_keys[v_i];
    select t.granted, t.wait_ms into granted, wait_ms
    from public.take_send_tokens(p_sender_keys[v_i], 1, p_default_rates[v_i]) t;
    return next;
  end loop;
end;
$$;

-- The provider answered 429 / 130429: empty the bucket and halve the rate for a minute (or the
-- provider's Retry-After, when longer).
create or replace function public.slow_down_sender(p_sender_key text, p_retry_after_ms integer default null)
returns void
language sql
security invoker
set search_path = ''
as $$
  update public.sender_rate_limits r
  set tokens = least(0, r.tokens),
      refilled_at = clock_timestamp() + make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0),
      slowed_until = now() + greatest(interval '1 minute',
                                      make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0)),
      updated_at = now()
  where r.sender_key = p_sender_key
$$;

-- ------------------------------------------------------------------------------------------
-- Cleanup in short transactions
-- ------------------------------------------------------------------------------------------

-- Live sessions by expiry: each batch reads the oldest expired ones straight from this index and
-- stops after p_batch_size, instead of sorting every expired session again.
create index if not exists omnichannel_sessions_live_expires_at_idx
  on public.omnichannel_sessions (expires_at) where status <> 'closed';

-- One batch: closes up to p_batch_size expired live sessions (skip locked: never waits on a
-- session a request is using). Returns how many it closed.
create or replace function public.cleanup_expired_omnichannel_sessions_batch(p_batch_size integer default 5000)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  with due as (
    select s.id from public.omnichannel_sessions s
    where s.status <> 'closed' and s.expires_at < now()
    order by s.expires_at
    limit p_batch_size
    for update skip locked
  )
  update public.omnichannel_sessions s
  set status = 'closed', closed_at = now()
  from due
  where s.id = due.id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- Commits after every batch, so a million expired sessions never sit under one long lock. Run
-- it with CALL at top level (pg_cron does); p_closed returns the total. No `set search_path`
-- clause: PostgreSQL forbids COMMIT in a procedure that has one; every name in it is qualified
-- and the only thing it calls pins its own search_path.
create or replace procedure public.cleanup_expired_omnichannel_sessions_in_batches(
  p_batch_size integer default 5000,
  inout p_closed integer default 0
)
language plpgsql
as $$
declare
  v_batch integer;
begin
  p_closed := 0;
  loop
    v_batch := public.cleanup_expired_omnichannel_sessions_batch(p_batch_size);
    p_closed := p_closed + v_batch;
    commit;
    exit when v_batch < p_batch_size;
  end loop;
end;
$$;

update public.scheduled_jobs
set command = 'call public.cleanup_expired_omnichannel_sessions_in_batches()'
where name = 'omnichannel-cleanup-expired-sessions';
select public.sync_scheduled_jobs();

do $$
declare
  v_fn text;
begin
  foreach v_fn in array array[
    'function public.record_outbound_outcome(uuid, boolean, text, text, text, text, text, text, text, boolean, integer, jsonb, text)',
    'function public.take_send_token_each(text[], double precision[])',
    'function public.enqueue_sms_fallback(uuid)',
    'function public.record_outbound_outcomes(jsonb)',
    'function public.claim_due_deliveries(integer, integer)',
    'function public.claim_delivery(uuid, integer)',
    'function public.release_deliveries(uuid[], timestamptz)',
    'function public.retry_delivery(uuid)',
    'function public.set_sender_rate(text, double precision, double precision)',
    'function public.take_send_tokens(text, integer, double precision)',
    'function public.slow_down_sender(text, integer)',
    'function public.cleanup_expired_omnichannel_sessions_batch(integer)',
    'procedure public.cleanup_expired_omnichannel_sessions_in_batches(integer, integer)',
    'function public.delivery_retry_delay(integer, integer)',
    'function public.delivery_retry_limits()'
  ] loop
    execute format('revoke execute on %s from public, anon, authenticated', v_fn);
    execute format('grant execute on %s to service_role', v_fn);
  end loop;
end;
$$;

-- AI replies left behind: the retry path's view of inbound messages whose reply never happened.
--
-- A webhook answers 200 once the message is recorded (reply_state 'pending') and writes the
-- reply afterwards; a crash in between leaves the row pending, and a crash during the reply
-- leaves it 'in_progress' with a lease that runs out. The dispatcher lists both kinds here and
-- hands each to the same reply use-case, whose claim (claim_inbound_reply) makes sure only one
-- of several concurrent dispatchers replies.
create or replace function public.list_pending_inbound_replies(
  p_older_than_seconds integer default 60,
  p_limit integer default 20,
  p_max_age_seconds integer default 86400
)
returns table (
  delivery_id uuid,
  session_id uuid,
  channel text,
  sender text,
  correlation_id text,
  created_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  -- Younger rows are most likely still being answered by the webhook's own background work;
  -- much older ones are no longer worth an automatic answer and are left to a person.
  select m.id, m.session_id, m.channel, m.sender, m.correlation_id, m.created_at
  from public.message_delivery_log m
  where m.direction = 'inbound'
    and m.channel in ('whatsapp', 'sms')
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= pg_catalog.now()))
    and m.created_at <= pg_catalog.now() - pg_catalog.make_interval(secs => p_older_than_seconds)
    and m.created_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_max_age_seconds)
    and m.session_id is not null
    and m.sender is not null
  order by m.created_at
  limit p_limit
$$;

revoke execute on function public.list_pending_inbound_replies(integer, integer, integer)
  from public, anon, authenticated;
grant execute on function public.list_pending_inbound_replies(integer, integer, integer)
  to service_role;

-- Every minute pg_cron asks pg_net to POST /functions/v1/dispatch, as Supabase documents for
-- scheduling edge functions: the URL and the service-role key live in Vault, never in the job.
--
-- Run once per project, after `supabase db push` (idempotent; run again to rotate the key):
--   select public.schedule_dispatch('https://<ref>.supabase.co/functions/v1', '<service-role key>');
-- Without pg_cron, pg_net or Vault (plain PostgreSQL, the embedded database) it raises and says
-- so; the local stack then calls dispatch itself every minute.
-- cron.*, net.* and vault.* are reached through dynamic SQL whose text is built at run time, so
-- this compiles, and plpgsql_check (which checks constant dynamic SQL) passes, where those
-- extensions are absent.

create or replace function public.schedule_dispatch(
  p_functions_url text,
  p_service_role_key text,
  p_schedule text default '* * * * *'
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_missing text[];
  v_name text;
  v_value text;
  v_id uuid;
begin
  if p_functions_url !~ '^https?://' then
    raise exception 'p_functions_url must be the functions base URL, e.g. https://<ref>.supabase.co/functions/v1'
      using errcode = '22023';
  end if;
  if coalesce(length(p_service_role_key), 0) < 20 then
    raise exception 'p_service_role_key must be the service-role key' using errcode = '22023';
  end if;
  select array_agg(e) into v_missing
  from unnest(array['pg_cron', 'pg_net', 'supabase_vault']) as e
  where not exists (select 1 from pg_catalog.pg_extension x where x.extname = e);
  if v_missing is not null then
    raise exception 'cannot schedule dispatch: extension(s) % not installed; the local stack calls dispatch itself',
      pg_catalog.array_to_string(v_missing, ', ') using errcode = '55000';
  end if;

  foreach v_name in array array['omnichannel_functions_url', 'omnichannel_service_role_key'] loop
    v_value := case when v_name = 'omnichannel_functions_url'
                    then pg_catalog.rtrim(p_functions_url, '/') else p_service_role_key end;
    execute pg_catalog.format('select id from %I.secrets where name = $1', 'vault') into v_id using v_name;
    if v_id is null then
      execute pg_catalog.format('select %I.create_secret($1, $2)', 'vault') using v_value, v_name;
    else
      execute pg_catalog.format('select %I.update_secret($1, $2)', 'vault') using v_id, v_value;
    end if;
  end loop;

  execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron') using
    'omnichannel-dispatch',
    p_schedule,
    $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets
                where name = 'omnichannel_functions_url') || '/dispatch',
        headers := jsonb_build_object(
          'Content-Type', 'application/json',
          'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                         where name = 'omnichannel_service_role_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 60000
      )
    $job$;
  return 'omnichannel-dispatch scheduled (' || p_schedule || ')';
end;
$$;

revoke execute on function public.schedule_dispatch(text, text, text) from public, anon, authenticated;
grant execute on function public.schedule_dispatch(text, text, text) to service_role;

comment on function public.schedule_dispatch(text, text, text) is
  'Schedules POST <functions url>/dispatch every minute with pg_cron + pg_net; URL and key kept in Vault.';

-- A WhatsApp webhook often carries many statuses (sent, delivered, read for a whole campaign):
-- record them in one round trip, in order, each exactly as record_delivery_status does.
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
      coalesce(v_update -> 'metadata', '{}'::jsonb)
    ) r;
    return next;
  end loop;
end;
$$;

revoke execute on function public.record_delivery_statuses(jsonb) from public, anon, authenticated;
grant execute on function public.record_delivery_statuses(jsonb) to service_role;

-- A WhatsApp call that ended is recorded (call_summaries, metadata.whatsapp_call) before the
-- webhook answers; its post-call flow runs after. If the process died in between, the call has
-- no post-call delivery: dispatch finds it here and runs the flow (idempotent per call id).
create or replace function public.list_unnotified_calls(
  p_older_than_seconds integer default 120,
  p_max_age_seconds integer default 86400,
  p_limit integer default 20
)
returns table (call_id text, phone_number text)
language sql
stable
security invoker
set search_path = ''
as $$
  select cs.call_id, cs.phone_number
  from public.call_summaries cs
  where cs.metadata ? 'whatsapp_call'
    and upper(coalesce(cs.metadata -> 'whatsapp_call' ->> 'status', '')) <> 'FAILED'
    and cs.phone_number is not null
    and cs.created_at <= now() - make_interval(secs => p_older_than_seconds)
    and cs.created_at > now() - make_interval(secs => p_max_age_seconds)
    and not exists (
      select 1 from public.message_delivery_log m
      where m.call_id = cs.call_id and m.purpose = 'post_call_summary'
    )
  order by cs.created_at
  limit p_limit
$$;

revoke execute on function public.list_unnotified_calls(integer, integer, integer) from public, anon, authenticated;
grant execute on function public.list_unnotified_calls(integer, integer, integer) to service_role;
