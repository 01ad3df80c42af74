-- Delivery statuses through an inbox, like inbound messages (20261130150000_inbound_inbox.sql):
-- the WhatsApp webhook's durable write is one narrow insert per status (public.status_inbox,
-- unique on channel + provider message id + status, so a redelivered callback is a no-op), the
-- statuses of concurrent requests in one statement per event-loop turn, and the 200 only after
-- its commit. The inbox worker (agent-worker, kicked after the commit; dispatch as the safety
-- net) applies them in batches through public.record_delivery_statuses: forward only, the
-- fallback trigger on failed, late statuses after a fallback — the same semantics as before, a
-- few milliseconds later. Statuses on numbers bridged to Genesys are still applied directly by
-- the webhook (their receipts need the outcome).

create table if not exists public.status_inbox (
  id bigint generated always as identity primary key,
  channel text not null,
  provider_message_id text not null check (length(provider_message_id) > 0),
  status text not null,
  -- the update as public.record_delivery_statuses takes it
  payload jsonb not null,
  received_at timestamptz not null default now(),
  -- null while owed to the worker
  processed_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  constraint status_inbox_key unique (channel, provider_message_id, status)
);

create index if not exists status_inbox_owed_idx on public.status_inbox (id)
  where processed_at is null;

comment on table public.status_inbox is
  'Delivery status callbacks accepted by the webhooks (unique per message and status), owed to the worker that applies them (public.process_status_inbox) while processed_at is null.';

alter table public.status_inbox enable row level security;
revoke all on table public.status_inbox from anon, authenticated;
grant select, insert, update, delete on table public.status_inbox to service_role;
create policy status_inbox_service_select on public.status_inbox
  for select to service_role using (true);
create policy status_inbox_service_insert on public.status_inbox
  for insert to service_role with check (true);
create policy status_inbox_service_update on public.status_inbox
  for update to service_role using (true) with check (true);
create policy status_inbox_service_delete on public.status_inbox
  for delete to service_role using (true);

-- Accepts status updates (the objects record_delivery_statuses takes): how many were new.
create or replace function public.accept_delivery_statuses(p_updates jsonb)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_new integer;
begin
  if jsonb_typeof(p_updates) is distinct from 'array' then
    raise exception 'p_updates must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_updates) as e(u)
    where coalesce(e.u ->> 'channel', '') = '' or coalesce(e.u ->> 'provider_message_id', '') = ''
       or coalesce(e.u ->> 'status', '') = ''
  ) then
    raise exception 'channel, provider_message_id and status are required' using errcode = '22023';
  end if;
  insert into public.status_inbox as s (channel, provider_message_id, status, payload)
  select e.u ->> 'channel', e.u ->> 'provider_message_id', e.u ->> 'status', e.u
  from jsonb_array_elements(p_updates) with ordinality as e(u, n)
  order by e.n
  on conflict (channel, provider_message_id, status) do nothing;
  get diagnostics v_new = row_count;
  return v_new;
end;
$$;

-- Claims up to p_limit owed statuses (skip locked), applies them in one call, ordered by message
-- so two workers lock the same delivery rows in the same order, and marks them processed, in one
-- transaction. A batch that fails is applied one status at a time; a status that fails alone is
-- retried, and parked after 5 attempts. Returns each applied status and its outcome.
create or replace function public.process_status_inbox(p_limit integer default 500)
returns table (
  inbox_id bigint, payload jsonb, matched boolean, delivery_id uuid, previous_status text,
  current_status text
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
  select array_agg(q.id order by q.provider_message_id, q.id),
         jsonb_agg(q.payload order by q.provider_message_id, q.id)
  into v_ids, v_batch
  from (
    select s.id, s.provider_message_id, s.payload from public.status_inbox s
    where s.processed_at is null and s.attempts < 5
    order by s.id
    limit greatest(p_limit, 1)
    for update skip locked
  ) q;
  if v_ids is null then
    return;
  end if;

  begin
    select coalesce(jsonb_agg(to_jsonb(r) order by r.ordinal), '[]'::jsonb) into v_out
    from public.record_delivery_statuses(v_batch) r;
  exception when others then
    v_out := '[]'::jsonb;
    for v_i in 1 .. pg_catalog.array_length(v_ids, 1) loop
      begin
        select to_jsonb(r) || jsonb_build_object('ordinal', v_i) into v_one
        from public.record_delivery_statuses(jsonb_build_array(v_batch -> (v_i - 1))) r;
        v_out := v_out || jsonb_build_array(v_one);
      exception when others then
        update public.status_inbox s
        set attempts = s.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 500)
        where s.id = v_ids[v_i];
      end;
    end loop;
  end;

  update public.status_inbox s set processed_at = now()
  where s.id in (select v_ids[(o ->> 'ordinal')::integer] from jsonb_array_elements(v_out) as x(o));

  return query
    select v_ids[(o ->> 'ordinal')::integer], v_batch -> ((o ->> 'ordinal')::integer - 1),
           (o ->> 'matched')::boolean, (o ->> 'delivery_id')::uuid, o ->> 'previous_status',
           o ->> 'current_status'
    from jsonb_array_elements(v_out) as x(o)
    order by v_ids[(o ->> 'ordinal')::integer];
end;
$$;

-- Housekeeping: processed inbox rows (messages and statuses) older than the retention, deleted in
-- batches of p_batch (each its own short statement: no long lock, no huge transaction). Parked
-- rows (never processed) are kept for a person to look at. Returns how many rows went.
create or replace function public.purge_processed_inboxes(
  p_retention interval default interval '7 days',
  p_batch integer default 5000
)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_cutoff timestamptz := now() - p_retention;
  v_total integer := 0;
  v_n integer;
begin
  delete from public.inbound_inbox i
  where i.id in (select x.id from public.inbound_inbox x
                 where x.processed_at is not null and x.processed_at < v_cutoff
                 limit greatest(p_batch, 1));
  get diagnostics v_n = row_count;
  v_total := v_total + v_n;
  delete from public.status_inbox s
  where s.id in (select x.id from public.status_inbox x
                 where x.processed_at is not null and x.processed_at < v_cutoff
                 limit greatest(p_batch, 1));
  get diagnostics v_n = row_count;
  return v_total + v_n;
end;
$$;

revoke execute on function public.accept_delivery_statuses(jsonb) from public, anon, authenticated;
grant execute on function public.accept_delivery_statuses(jsonb) to service_role;
revoke execute on function public.process_status_inbox(integer) from public, anon, authenticated;
grant execute on function public.process_status_inbox(integer) to service_role;
revoke execute on function public.purge_processed_inboxes(interval, integer)
  from public, anon, authenticated;
grant execute on function public.purge_processed_inboxes(interval, integer) to service_role;
