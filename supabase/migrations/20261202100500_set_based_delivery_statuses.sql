-- Delivery statuses applied a batch at a time. record_delivery_statuses called
-- record_delivery_status once per status: five statements each (find the row, lock its profile,
-- lock it, update it, maybe the profile), 0.46 ms of the 0.55 ms a status cost the status worker
-- (pg_stat_statements over the webhook benchmark, 42,680 statuses). A sent, delivered or read
-- callback for a message no other status in the batch names — nearly every status a provider
-- sends — is now applied with the batch's others: one lookup, the batch's profiles then rows
-- locked in id order (the lock order of every other writer), one update. What it writes is what
-- record_delivery_status writes, and the row's triggers (forward-only status, its timestamps,
-- the stats marks) fire for each row as before.
--
-- Still one at a time, in the batch's order, through record_delivery_status: failures (their
-- error columns, the profile's has_whatsapp, the fallback), statuses found by our own row id
-- (delivery_id) because the row never learned its provider id, and every status of a message
-- named more than once in the batch (each sees the one before it).
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
  v_bad text;
  v_ord integer[];
  v_id uuid[];
  v_status text[];
  v_meta jsonb[];
  v_others uuid[];
  v_before jsonb;
  v_after jsonb;
  v_update jsonb;
  v_i bigint;
begin
  if jsonb_typeof(p_updates) is distinct from 'array' then
    raise exception 'p_updates must be a JSON array' using errcode = '22023';
  end if;
  -- The whole batch is refused for one bad status, as when each was applied in turn.
  select coalesce(e.value ->> 'status', 'null') into v_bad
  from jsonb_array_elements(p_updates) with ordinality e
  where (e.value ->> 'status') is null
     or (e.value ->> 'status') not in ('sent', 'delivered', 'read', 'failed')
  order by e.ordinality
  limit 1;
  if v_bad is not null then
    raise exception 'a delivery status is sent, delivered, read or failed, not %', v_bad
      using errcode = '22023';
  end if;

  -- Each status's row by its provider id, once; and which of them are applied together: a
  -- sent/delivered/read status, its message named once in the batch, found by its provider id
  -- (or found by nothing and carrying no row id of ours).
  select array_agg(g.ord order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(m.id order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(g.status order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(g.metadata order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(coalesce(m.id, g.echoed_id)) filter (where not t.together)
  into v_ord, v_id, v_status, v_meta, v_others
  from (
    select h.*,
           h.named = 1 and h.status in ('sent', 'delivered', 'read') as fast
    from (
      select e.ordinality::integer as ord, e.value ->> 'channel' as channel,
             e.value ->> 'provider_message_id' as provider_message_id, e.value ->> 'status' as status,
             coalesce(e.value -> 'metadata', '{}'::jsonb) as metadata,
             (e.value ->> 'delivery_id')::uuid as echoed_id,
             count(*) over (partition by e.value ->> 'channel', e.value ->> 'provider_message_id') as named
      from jsonb_array_elements(p_updates) with ordinality e
    ) h
  ) g
  left join public.message_delivery_log m
    on m.channel = g.channel and m.provider_message_id = g.provider_message_id
   and m.direction = 'outbound'
  cross join lateral (select g.fast and (m.id is not null or g.echoed_id is null) as together) t;

  -- Every profile the batch touches first, then the deliveries, each in id order: the lock order
  -- of every other writer of both (record_delivery_status, the outcomes), so two batches never
  -- wait on each other in a circle.
  perform 1 from public.profiles p
  where p.id in (
    select m.profile_id from public.message_delivery_log m
    where m.id = any (v_id) or m.id = any (v_others)
  )
  order by p.id
  for update;

  if v_ord is not null then
    select coalesce(jsonb_object_agg(l.id, l.status), '{}'::jsonb) into v_before
    from (
      select m.id, m.status from public.message_delivery_log m
      where m.id = any (v_id)
      order by m.id
      for update
    ) l;

    -- As record_delivery_status: the guard trigger keeps the status from moving backwards and
    -- stamps sent_at / delivered_at / read_at; a callback resolving an unknown send clears the
    -- timeout it was waiting on. (m.* in SET is the row as locked above.)
    with u as (
      select x.id, x.status, x.metadata
      from unnest(v_id, v_status, v_meta) as x(id, status, metadata)
      where x.id is not null
    ), done as (
      update public.message_delivery_log m
      set status = u.status,
          error_code = case when m.status = 'unknown' then null else m.error_code end,
          error_message = case when m.status = 'unknown' then null else m.error_message end,
          error_class = case when m.status = 'unknown' then null else m.error_class end,
          next_attempt_at = case when m.status = 'unknown' then null else m.next_attempt_at end,
          metadata = m.metadata || u.metadata
      from u
      where m.id = u.id
      returning m.id, m.status
    )
    select coalesce(jsonb_object_agg(done.id, done.status), '{}'::jsonb) into v_after from done;

    return query
      select x.ord, x.id is not null, x.id, v_before ->> x.id::text, v_after ->> x.id::text
      from unnest(v_ord, v_id) as x(ord, id);
  end if;

  -- The rest, one at a time, in the batch's order.
  for v_update, v_i in
    select e.value, e.ordinality from jsonb_array_elements(p_updates) with ordinality e
    where v_ord is null or not (e.ordinality::integer = any (v_ord))
    order by e.ordinality
  loop
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

revoke execute on function public.record_delivery_statuses(jsonb) from public, anon, authenticated;
grant execute on function public.record_delivery_statuses(jsonb) to service_role;
