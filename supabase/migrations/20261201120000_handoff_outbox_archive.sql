-- Issue 13, the bridge's second half:
--   1. conversation_handoffs: a session the AI handed to the tenant's Genesys agents
--      (routing ai_then_agent), with who asked, why and when, until it is closed.
--   2. genesys_outbox: every post to Genesys (a person's message, a receipt) as a durable row,
--      retried with the outbox's policy (delivery_retry_delay / delivery_retry_limits) under a
--      lease, idempotent on its dedupe key and on the Genesys channel.messageId.
--   3. webhook_archive: the raw body of every webhook after its signature check, and of every
--      body we post to Genesys, kept 14 days (purge_webhook_archive, from the dispatch tick)
--      for an operator to read and replay.

-- ------------------------------------------------------------------------------------------
-- Handoffs
-- ------------------------------------------------------------------------------------------
create table public.conversation_handoffs (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  session_id uuid not null references public.omnichannel_sessions (id) on delete cascade,
  -- The person (E.164) and the WhatsApp number they wrote to.
  whatsapp_id text not null,
  phone_number_id text,
  -- waiting: no agent has written yet; agent: an agent answered; closed: the AI answers again.
  state text not null default 'waiting' check (state in ('waiting', 'agent', 'closed')),
  -- person: they asked for a human (matched without the model); ai: the conversation_handoff
  -- tool; operator: by hand.
  requested_by text not null check (requested_by in ('person', 'ai', 'operator')),
  reason text not null check (pg_catalog.length(reason) between 1 and 500),
  summary text check (summary is null or pg_catalog.length(summary) <= 2000),
  -- The inbound message that started it.
  delivery_id uuid references public.message_delivery_log (id) on delete set null,
  created_at timestamptz not null default now(),
  agent_joined_at timestamptz,
  closed_at timestamptz,
  -- genesys (a Disconnect event), api (the conversation resolved), session (closed or expired),
  -- operator.
  closed_by text,
  close_reason text,
  check ((state = 'closed') = (closed_at is not null))
);

-- One open handoff per session; the lookup every AI reply of an ai_then_agent number makes.
create unique index conversation_handoffs_open_idx on public.conversation_handoffs (session_id)
  where state <> 'closed';
-- The dashboard's "handoffs waiting" per tenant.
create index conversation_handoffs_tenant_idx on public.conversation_handoffs
  (tenant_id, state, created_at desc);

comment on table public.conversation_handoffs is
  'Sessions handed from the AI to Genesys agents (routing ai_then_agent): waiting → agent → closed.';

-- ------------------------------------------------------------------------------------------
-- Posts to Genesys
-- ------------------------------------------------------------------------------------------
create table public.genesys_outbox (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- Null: the tenant's integration (tenant_channel_account); set: that integration.
  integration_id text,
  kind text not null check (kind in ('message', 'receipt')),
  -- message:<delivery id> | receipt:<genesys message id>:<status>: a second enqueue is a no-op.
  dedupe_key text not null unique,
  -- message: the person's inbound row, built into an Open Messaging message when it is posted.
  delivery_id uuid references public.message_delivery_log (id) on delete cascade,
  -- message: channel.metadata.customAttributes (a handoff's transcript and context);
  -- receipt: the receipt body.
  payload jsonb not null default '{}'::jsonb check (jsonb_typeof(payload) = 'object'),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  leased_until timestamptz,
  last_error text,
  genesys_message_id text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);

create index genesys_outbox_due_idx on public.genesys_outbox (next_attempt_at)
  where status in ('pending', 'sending');
create index genesys_outbox_tenant_idx on public.genesys_outbox (tenant_id, created_at desc);

comment on table public.genesys_outbox is
  'Posts to Genesys Open Messaging, retried with backoff (429/5xx/timeout) until sent or failed.';

-- ------------------------------------------------------------------------------------------
-- Raw webhook archive
-- ------------------------------------------------------------------------------------------
create table public.webhook_archive (
  id bigint generated always as identity primary key,
  -- inbound: a provider's webhook to us; outbound: a body we posted (to Genesys).
  direction text not null check (direction in ('inbound', 'outbound')),
  -- The function that received it (wa-webhook, sms-inbound, meta-webhook, email-inbound,
  -- genesys-webhook) or, outbound, where it went (genesys:message, genesys:receipt).
  source text not null check (pg_catalog.length(source) between 1 and 64),
  received_at timestamptz not null default now(),
  correlation_id text,
  content_type text,
  -- The headers a replay needs (the query string of a form post, the Svix id, …); never a
  -- signature or a key.
  headers jsonb not null default '{}'::jsonb,
  body text not null,
  -- outbound: the provider's HTTP status (0: no answer).
  response_status integer,
  replay_count integer not null default 0,
  last_replayed_at timestamptz,
  last_replay_status integer
);

create index webhook_archive_received_idx on public.webhook_archive (received_at);
create index webhook_archive_source_idx on public.webhook_archive (source, received_at desc);

comment on table public.webhook_archive is
  'Raw webhook bodies after their signature check, and bodies posted to Genesys; kept 14 days.';

alter table public.conversation_handoffs enable row level security;
alter table public.genesys_outbox enable row level security;
alter table public.webhook_archive enable row level security;
revoke all on table public.conversation_handoffs, public.genesys_outbox, public.webhook_archive
  from anon, authenticated;
grant select, insert, update, delete on table public.conversation_handoffs,
  public.genesys_outbox, public.webhook_archive to service_role;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['conversation_handoffs', 'genesys_outbox', 'webhook_archive'] loop
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

-- ------------------------------------------------------------------------------------------
-- Functions
-- ------------------------------------------------------------------------------------------

-- A post owed to Genesys; the id of the row already owed when the dedupe key is known.
create function public.enqueue_genesys_post(
  p_tenant_id uuid,
  p_kind text,
  p_dedupe_key text,
  p_delivery_id uuid default null,
  p_payload jsonb default '{}'::jsonb,
  p_integration_id text default null
)
returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_id bigint;
begin
  insert into public.genesys_outbox (tenant_id, integration_id, kind, dedupe_key, delivery_id, payload)
  values (p_tenant_id, p_integration_id, p_kind, p_dedupe_key, p_delivery_id,
          coalesce(p_payload, '{}'::jsonb))
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  if v_id is null then
    select o.id into v_id from public.genesys_outbox o where o.dedupe_key = p_dedupe_key;
  end if;
  return v_id;
end;
$$;

-- Hands a session to the tenant's agents (one open handoff per session: a second call returns
-- the open one, is_new false) and owes Genesys the message that started it, carrying the
-- handoff's attributes (transcript, context) for the agent.
create function public.start_conversation_handoff(
  p_tenant_id uuid,
  p_session_id uuid,
  p_whatsapp_id text,
  p_requested_by text,
  p_reason text,
  p_phone_number_id text default null,
  p_summary text default null,
  p_delivery_id uuid default null,
  p_attributes jsonb default '{}'::jsonb
)
returns table (handoff_id uuid, is_new boolean, outbox_id bigint)
language plpgsql
security invoker
set search_path = ''
as $$
begin
  insert into public.conversation_handoffs as h
    (tenant_id, session_id, whatsapp_id, phone_number_id, requested_by, reason, summary, delivery_id)
  values (p_tenant_id, p_session_id, p_whatsapp_id, p_phone_number_id, p_requested_by,
          pg_catalog.left(p_reason, 500), pg_catalog.left(p_summary, 2000), p_delivery_id)
  on conflict (session_id) where state <> 'closed' do nothing
  returning h.id into handoff_id;
  is_new := handoff_id is not null;
  if not is_new then
    select h.id into handoff_id from public.conversation_handoffs h
    where h.session_id = p_session_id and h.state <> 'closed';
  end if;
  if p_delivery_id is not null then
    outbox_id := public.enqueue_genesys_post(
      p_tenant_id => p_tenant_id, p_kind => 'message',
      p_dedupe_key => 'message:' || p_delivery_id::text, p_delivery_id => p_delivery_id,
      p_payload => case when is_new then p_attributes else '{}'::jsonb end);
  end if;
  return next;
end;
$$;

-- An inbound message of a session handed to agents: owed to Genesys (the AI stays silent).
-- No row when the session has no open handoff.
create function public.forward_if_handed_off(p_session_id uuid, p_delivery_id uuid)
returns table (handoff_id uuid, tenant_id uuid, outbox_id bigint)
language plpgsql
security invoker
set search_path = ''
as $$
begin
  select h.id, h.tenant_id into handoff_id, tenant_id
  from public.conversation_handoffs h
  where h.session_id = p_session_id and h.state <> 'closed';
  if handoff_id is null then
    return;
  end if;
  outbox_id := public.enqueue_genesys_post(
    p_tenant_id => tenant_id, p_kind => 'message',
    p_dedupe_key => 'message:' || p_delivery_id::text, p_delivery_id => p_delivery_id);
  return next;
end;
$$;

-- Hands a session back to the AI. False when it had no open handoff.
create function public.close_conversation_handoff(
  p_session_id uuid,
  p_closed_by text,
  p_reason text default null
)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with closed as (
    update public.conversation_handoffs
    set state = 'closed', closed_at = now(), closed_by = p_closed_by, close_reason = p_reason
    where session_id = p_session_id and state <> 'closed'
    returning 1
  )
  select exists (select 1 from closed)
$$;

-- A session that ends (closed, expired) or whose conversation is resolved in the messages API
-- is handed back: the next message starts with the AI again.
create function public.close_handoff_on_session_end()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform public.close_conversation_handoff(
    new.id,
    case when new.status = 'closed' then 'session' else 'api' end,
    case when new.status = 'closed' then 'the session ended' else 'the conversation was resolved' end);
  return new;
end;
$$;

create trigger omnichannel_sessions_close_handoff
  after update of status, conversation_status on public.omnichannel_sessions
  for each row
  when ((new.status = 'closed' and old.status <> 'closed')
        or (new.conversation_status = 'resolved' and old.conversation_status <> 'resolved'))
  execute function public.close_handoff_on_session_end();

-- Claims due posts (all due ones, or only p_ids) under a lease, skip-locked, with what a
-- message needs to be built: the person's row and profile name.
create function public.claim_genesys_posts(
  p_ids bigint[] default null,
  p_limit integer default 50,
  p_lease_seconds integer default 60
)
returns table (
  id bigint,
  tenant_id uuid,
  integration_id text,
  kind text,
  payload jsonb,
  attempts integer,
  delivery_id uuid,
  session_id uuid,
  sender text,
  provider_message_id text,
  body text,
  metadata jsonb,
  display_name text
)
language sql
security invoker
set search_path = ''
as $$
  with due as (
    select o.id from public.genesys_outbox o
    where (p_ids is null or o.id = any (p_ids))
      and ((o.status = 'pending' and o.next_attempt_at <= now())
           or (o.status = 'sending' and o.leased_until <= now()))
    order by o.next_attempt_at, o.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.genesys_outbox o
    set status = 'sending', attempts = o.attempts + 1,
        leased_until = now() + make_interval(secs => p_lease_seconds)
    from due where o.id = due.id
    returning o.*
  )
  select c.id, c.tenant_id, c.integration_id, c.kind, c.payload, c.attempts, c.delivery_id,
         d.session_id, d.sender, d.provider_message_id, d.body, d.metadata, p.display_name
  from claimed c
  left join public.message_delivery_log d on d.id = c.delivery_id
  left join public.profiles p on p.id = d.profile_id
  order by c.id
$$;

-- The outcome of one post: sent; or, when a retry can help, due again with the outbox's
-- backoff until delivery_retry_limits' attempts are spent; else failed with the error. The
-- body we posted is archived (outbound) in the same round trip.
create function public.record_genesys_post(
  p_id bigint,
  p_ok boolean,
  p_genesys_message_id text default null,
  p_error text default null,
  p_retryable boolean default false,
  p_retry_after_ms integer default null,
  p_request_body text default null,
  p_response_status integer default null
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_row public.genesys_outbox;
  v_max integer;
begin
  select l.max_attempts into v_max from public.delivery_retry_limits() l;
  update public.genesys_outbox o
  set status = case when p_ok then 'sent'
                    when p_retryable and o.attempts < v_max then 'pending'
                    else 'failed' end,
      next_attempt_at = case when not p_ok and p_retryable
                             then now() + public.delivery_retry_delay(o.attempts, p_retry_after_ms)
                             else o.next_attempt_at end,
      leased_until = null,
      last_error = case when p_ok then null else pg_catalog.left(p_error, 1000) end,
      genesys_message_id = coalesce(p_genesys_message_id, o.genesys_message_id),
      sent_at = case when p_ok then now() else o.sent_at end
  where o.id = p_id
  returning o.* into v_row;
  if p_request_body is not null and v_row.id is not null then
    insert into public.webhook_archive (direction, source, correlation_id, content_type, body, response_status)
    values ('outbound', 'genesys:' || v_row.kind, 'genesys-outbox:' || v_row.id::text,
            'application/json', p_request_body, p_response_status);
  end if;
  return v_row.status;
end;
$$;

-- An operator's retry of a failed post: due now, attempts counted afresh.
create function public.retry_genesys_post(p_id bigint)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with retried as (
    update public.genesys_outbox
    set status = 'pending', attempts = 0, next_attempt_at = now(), last_error = null
    where id = p_id and status = 'failed'
    returning 1
  )
  select exists (select 1 from retried)
$$;

-- An agent's message (Genesys retried it: false), tracked; the conversation id remembered and
-- a handoff waiting for an agent now has one.
create or replace function public.track_genesys_outbound(
  p_integration_id text,
  p_whatsapp_id text,
  p_genesys_message_id text,
  p_delivery_id uuid,
  p_genesys_conversation_id text default null
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_new boolean;
  v_session uuid;
begin
  insert into public.genesys_messages (integration_id, genesys_message_id, delivery_id, direction)
  values (p_integration_id, p_genesys_message_id, p_delivery_id, 'outbound')
  on conflict do nothing;
  get diagnostics v_new = row_count;
  update public.genesys_conversations
  set genesys_conversation_id = coalesce(p_genesys_conversation_id, genesys_conversation_id),
      state = 'agent'
  where integration_id = p_integration_id and whatsapp_id = p_whatsapp_id
  returning session_id into v_session;
  if v_session is not null then
    update public.conversation_handoffs
    set state = 'agent', agent_joined_at = now()
    where session_id = v_session and state = 'waiting';
  end if;
  return v_new;
end;
$$;

-- Webhook bodies, many in one statement (the webhooks' per-turn batch):
-- [{direction, source, correlation_id, content_type, headers, body}].
create function public.archive_webhooks(p_rows jsonb)
returns void
language sql
security invoker
set search_path = ''
as $$
  insert into public.webhook_archive (direction, source, correlation_id, content_type, headers, body)
  select coalesce(r ->> 'direction', 'inbound'), r ->> 'source', r ->> 'correlation_id',
         r ->> 'content_type', coalesce(r -> 'headers', '{}'::jsonb), r ->> 'body'
  from jsonb_array_elements(p_rows) r
$$;

-- Retention: archived bodies older than p_retention go, p_batch_size at a time (the dispatch
-- tick calls it every minute, so a backlog drains without one long delete).
create function public.purge_webhook_archive(
  p_retention interval default interval '14 days',
  p_batch_size integer default 5000
)
returns integer
language sql
security invoker
set search_path = ''
as $$
  with doomed as (
    select a.id from public.webhook_archive a
    where a.received_at < now() - p_retention
    order by a.received_at
    limit p_batch_size
  ), purged as (
    delete from public.webhook_archive a using doomed where a.id = doomed.id returning 1
  )
  select count(*)::integer from purged
$$;

-- A replay's outcome, on the archived row.
create function public.record_webhook_replay(p_id bigint, p_status integer)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with replayed as (
    update public.webhook_archive
    set replay_count = replay_count + 1, last_replayed_at = now(), last_replay_status = p_status
    where id = p_id
    returning 1
  )
  select exists (select 1 from replayed)
$$;

revoke execute on function
  public.enqueue_genesys_post(uuid, text, text, uuid, jsonb, text),
  public.start_conversation_handoff(uuid, uuid, text, text, text, text, text, uuid, jsonb),
  public.forward_if_handed_off(uuid, uuid),
  public.close_conversation_handoff(uuid, text, text),
  public.close_handoff_on_session_end(),
  public.claim_genesys_posts(bigint[], integer, integer),
  public.record_genesys_post(bigint, boolean, text, text, boolean, integer, text, integer),
  public.retry_genesys_post(bigint),
  public.archive_webhooks(jsonb),
  public.purge_webhook_archive(interval, integer),
  public.record_webhook_replay(bigint, integer)
  from public, anon, authenticated;
grant execute on function
  public.enqueue_genesys_post(uuid, text, text, uuid, jsonb, text),
  public.start_conversation_handoff(uuid, uuid, text, text, text, text, text, uuid, jsonb),
  public.forward_if_handed_off(uuid, uuid),
  public.close_conversation_handoff(uuid, text, text),
  public.claim_genesys_posts(bigint[], integer, integer),
  public.record_genesys_post(bigint, boolean, text, text, boolean, integer, text, integer),
  public.retry_genesys_post(bigint),
  public.archive_webhooks(jsonb),
  public.purge_webhook_archive(interval, integer),
  public.record_webhook_replay(bigint, integer)
  to service_role;

-- The call-center agent learns the 8th tool (an operator's own edits to the text are kept: the
-- line is added only where it is missing).
update public.agent_instructions
set instructions = pg_catalog.rtrim(instructions, E'\n') || E'\n' ||
$line$- conversation_handoff (offered only where human agents can take over): hand the conversation
  to a human agent when the person asks for one or you cannot help; then say nothing more (the
  person is told an agent will take over).
$line$
where agent_key = 'call_center' and instructions not like '%conversation_handoff%';
