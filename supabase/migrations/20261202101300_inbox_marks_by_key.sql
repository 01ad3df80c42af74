-- The inbox workers marked their batch processed with `id in (select … from
-- jsonb_array_elements(…))`, which the planner takes for 100 rows: on an inbox of a few tens of
-- thousands of rows (they keep processed rows 7 days) it hashed the batch and read the whole inbox,
-- once per batch (the status benchmark counted 111 such scans of status_inbox reading 4.2 million
-- rows; tests/wa-webhook/inbox-scans.test.ts: 20,003 rows read for a batch of 3). The batch's ids
-- are now one array matched by key. The unused `v_i` declarations go too (the loops declare their
-- own; `supabase db lint` warned about both). Nothing else changes.

create or replace function public.process_inbound_inbox(p_limit integer default 100, p_claim_seconds integer default null)
returns table (
  inbox_id bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean,
  allows_sms boolean, channel text, sender text, correlation_id text, needs_reply boolean,
  claimed_until text
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
begin
  if p_claim_seconds is not null and p_claim_seconds < 1 then
    raise exception 'p_claim_seconds must be at least 1' using errcode = '22023';
  end if;
  -- The messages owed a reply (the worker answers WhatsApp and SMS) carry the claim.
  select array_agg(q.id order by q.id),
         jsonb_agg(case when p_claim_seconds is not null
                         and q.message ->> 'channel' in ('whatsapp', 'sms')
                         and coalesce((q.message ->> 'needs_reply')::boolean, true)
                        then q.message || jsonb_build_object('claim_seconds', p_claim_seconds)
                        else q.message end
                   order by q.id)
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

  -- By key: the batch's ids as one array (an index probe each), never a join the planner could
  -- answer by reading the inbox whole.
  update public.inbound_inbox i set processed_at = now()
  where i.id = any (array(select v_ids[(o ->> 'ordinal')::integer]
                          from jsonb_array_elements(v_out) as x(o)));

  -- A row this call wrote with a claim holds it until now() + p_claim_seconds: now() is the
  -- transaction's time, the same the insert used.
  return query
    select v_ids[(o ->> 'ordinal')::integer], (o ->> 'delivery_id')::uuid,
           (o ->> 'session_id')::uuid, (o ->> 'profile_id')::uuid, (o ->> 'is_new')::boolean,
           (o ->> 'allows_sms')::boolean, m ->> 'channel', m ->> 'sender', m ->> 'correlation_id',
           coalesce((m ->> 'needs_reply')::boolean, true),
           case when (o ->> 'is_new')::boolean and m ? 'claim_seconds'
                then (now() + make_interval(secs => p_claim_seconds))::text end
    from jsonb_array_elements(v_out) as x(o)
    cross join lateral (select v_batch -> ((o ->> 'ordinal')::integer - 1) as m) mm
    order by (o ->> 'ordinal')::integer;
end;
$$;

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

  -- By key, as process_inbound_inbox.
  update public.status_inbox s set processed_at = now()
  where s.id = any (array(select v_ids[(o ->> 'ordinal')::integer]
                          from jsonb_array_elements(v_out) as x(o)));

  return query
    select v_ids[(o ->> 'ordinal')::integer], v_batch -> ((o ->> 'ordinal')::integer - 1),
           (o ->> 'matched')::boolean, (o ->> 'delivery_id')::uuid, o ->> 'previous_status',
           o ->> 'current_status'
    from jsonb_array_elements(v_out) as x(o)
    order by v_ids[(o ->> 'ordinal')::integer];
end;
$$;
