-- The inbound inbox: a webhook's durable write is one narrow row per message, derived later.
--
-- Recording a message the full way (profile upsert, session got or created and extended,
-- message row on an 11-index table, 2 triggers) on the request path caps the webhooks at what one
-- transaction per request costs. A webhook now only accepts its parsed messages into
-- public.inbound_inbox (unique on the provider's id, so a redelivered or concurrent copy is one
-- row), for all the requests of one event-loop turn in one statement and one commit, and answers
-- 200 after that commit. A worker (the agent-worker function, kicked by the webhook after the
-- commit; dispatch every minute as the safety net) derives profiles, sessions and messages from
-- the inbox in batches with public.record_inbound_messages, then writes the AI replies.
--
-- Nothing is lost if a worker dies: public.process_inbound_inbox claims its rows with
-- `for update skip locked`, derives them and marks them processed in one transaction, so the
-- claim is a lease that ends with the worker's connection and a crash leaves the rows owed.
-- A message that cannot be derived (a malformed sender) is retried by the next batches and
-- parked after 5 attempts (attempts, last_error), without holding back the others.
--
-- p_messages elements: the shape public.record_inbound_messages takes ({channel, sender,
-- sender_kind, provider, provider_message_id, message_type, body, metadata, correlation_id,
-- whatsapp_jid, needs_reply, display_name}); the element is kept as it came (`message`) and
-- handed to record_inbound_messages unchanged, so fields it learns later pass through.

create table if not exists public.inbound_inbox (
  id bigint generated always as identity primary key,
  channel text not null,
  provider_message_id text not null check (length(provider_message_id) > 0),
  sender text not null,
  sender_kind text not null default 'phone',
  message jsonb not null,
  received_at timestamptz not null default now(),
  -- null while owed to the worker
  processed_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  constraint inbound_inbox_provider_message_key unique (channel, provider_message_id)
);

create index if not exists inbound_inbox_owed_idx on public.inbound_inbox (id)
  where processed_at is null;

comment on table public.inbound_inbox is
  'Inbound messages accepted by the webhooks (unique on the provider id), owed to the worker that derives profiles, sessions and messages from them while processed_at is null.';

alter table public.inbound_inbox enable row level security;
revoke all on table public.inbound_inbox from anon, authenticated;
grant select, insert, update, delete on table public.inbound_inbox to service_role;
create policy inbound_inbox_service_select on public.inbound_inbox
  for select to service_role using (true);
create policy inbound_inbox_service_insert on public.inbound_inbox
  for insert to service_role with check (true);
create policy inbound_inbox_service_update on public.inbound_inbox
  for update to service_role using (true) with check (true);
create policy inbound_inbox_service_delete on public.inbound_inbox
  for delete to service_role using (true);

-- The webhooks' write: every element accepted in one statement. is_new is false for a provider
-- id already in the inbox (a redelivery) and for the second copy of an id within the batch.
-- An element without a channel, sender or provider id fails the statement (22023): the caller
-- then accepts the batch's elements one by one, so only that request fails.
create or replace function public.accept_inbound_messages(p_messages jsonb)
returns table (ordinal bigint, inbox_id bigint, is_new boolean)
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_messages) as e(m)
    where coalesce(e.m ->> 'channel', '') = '' or coalesce(e.m ->> 'sender', '') = ''
       or coalesce(e.m ->> 'provider_message_id', '') = ''
  ) then
    raise exception 'channel, sender and provider_message_id are required' using errcode = '22023';
  end if;
  return query
    with e as (
      select x.m, x.n from jsonb_array_elements(p_messages) with ordinality as x(m, n)
    ),
    ins as (
      insert into public.inbound_inbox as i (channel, provider_message_id, sender, sender_kind, message)
      select e.m ->> 'channel', e.m ->> 'provider_message_id', e.m ->> 'sender',
             coalesce(e.m ->> 'sender_kind', 'phone'), e.m
      from e order by e.n
      on conflict (channel, provider_message_id) do nothing
      returning i.id, i.channel, i.provider_message_id
    ),
    firsts as (
      select e.n, e.m ->> 'channel' as channel, e.m ->> 'provider_message_id' as pid,
             e.n = min(e.n) over (partition by e.m ->> 'channel', e.m ->> 'provider_message_id') as first
      from e
    )
    select f.n, coalesce(ins.id, old.id), ins.id is not null and f.first
    from firsts f
    left join ins on ins.channel = f.channel and ins.provider_message_id = f.pid
    left join public.inbound_inbox old
      on ins.id is null and old.channel = f.channel and old.provider_message_id = f.pid
    order by f.n;
end;
$$;

-- The worker's round: up to p_limit owed rows, oldest first, claimed (skip locked), derived with
-- public.record_inbound_messages in one statement and marked processed, in this one transaction.
-- When the batch fails (one element spoils it), each element is derived on its own and the one
-- that fails counts an attempt and keeps its error; it is parked after 5.
-- Returns each derived message with what the reply path needs.
create or replace function public.process_inbound_inbox(p_limit integer default 100)
returns table (
  inbox_id bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean,
  allows_sms boolean, channel text, sender text, correlation_id text, needs_reply boolean
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_ids bigint[];
  v_batch jsonb;
  v_out jsonb;
  v_one jsonb;
  v_i integer;
begin
  select array_agg(q.id order by q.id), jsonb_agg(q.message order by q.id)
  into v_ids, v_batch
  from (
    select i.id, i.message from public.inbound_inbox i
    where i.processed_at is null and i.attempts < 5
    order by i.id
    limit greatest(p_limit, 1)
    for update skip locked
  ) q;
  if v_ids is null then
    return;
  end if;

  begin
    select coalesce(jsonb_agg(to_jsonb(r) order by r.ordinal), '[]'::jsonb) into v_out
    from public.record_inbound_messages(v_batch) r;
  exception when others then
    v_out := '[]'::jsonb;
    for v_i in 1 .. pg_catalog.array_length(v_ids, 1) loop
      begin
        select to_jsonb(r) || jsonb_build_object('ordinal', v_i) into v_one
        from public.record_inbound_messages(jsonb_build_array(v_batch -> (v_i - 1))) r;
        v_out := v_out || jsonb_build_array(v_one);
      exception when others then
        update public.inbound_inbox i
        set attempts = i.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 500)
        where i.id = v_ids[v_i];
      end;
    end loop;
  end;

  update public.inbound_inbox i set processed_at = now()
  where i.id in (select v_ids[(o ->> 'ordinal')::integer] from jsonb_array_elements(v_out) as x(o));

  return query
    select v_ids[(o ->> 'ordinal')::integer], (o ->> 'delivery_id')::uuid,
           (o ->> 'session_id')::uuid, (o ->> 'profile_id')::uuid, (o ->> 'is_new')::boolean,
           (o ->> 'allows_sms')::boolean, m ->> 'channel', m ->> 'sender', m ->> 'correlation_id',
           coalesce((m ->> 'needs_reply')::boolean, true)
    from jsonb_array_elements(v_out) as x(o)
    cross join lateral (select v_batch -> ((o ->> 'ordinal')::integer - 1) as m) mm
    order by (o ->> 'ordinal')::integer;
end;
$$;

revoke execute on function public.accept_inbound_messages(jsonb) from public, anon, authenticated;
grant execute on function public.accept_inbound_messages(jsonb) to service_role;
revoke execute on function public.process_inbound_inbox(integer) from public, anon, authenticated;
grant execute on function public.process_inbound_inbox(integer) to service_role;
