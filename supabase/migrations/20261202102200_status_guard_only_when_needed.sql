-- The delivery log's status guard runs only when it has something to do. It is a PL/pgSQL
-- trigger on every update of the log: it keeps a status from moving backwards, stamps the moment
-- of each forward move (sent_at, delivered_at, read_at, failed_at) and sets updated_at. For a
-- status batch of hundreds of rows, or a notification's two accepted sends, the writer already
-- knows the move is forward: it now stamps it and sets updated_at itself, and the trigger's WHEN
-- lets those rows through without the call (about 0.02-0.03 ms a row: 8,000 rows moved to
-- delivered in one statement took 367-551 ms with the trigger, 267-390 ms without).
--
-- The trigger still runs for every other update: any writer that leaves updated_at alone, and
-- any status change that is not a stamped forward move to sent, delivered or read (a move it
-- refuses, a failure, a block, an unknown). So the forward-only rule holds for every writer as
-- before; the two set-wise writers below give the same rows as before, stamps included.
--
-- The WHEN restates which moves are forward, as message_delivery_log_guard_status ranks them
-- (queued, unknown, sent, delivered, read): a change to that rule changes both, and the writers'
-- stamps.

drop trigger message_delivery_log_guard_status on public.message_delivery_log;
create trigger message_delivery_log_guard_status
  before update on public.message_delivery_log
  for each row
  when (new.updated_at is not distinct from old.updated_at
        or (new.status is distinct from old.status and not (
              (new.status = 'sent' and old.status in ('queued', 'unknown') and new.sent_at is not null)
           or (new.status = 'delivered' and old.status in ('queued', 'unknown', 'sent')
               and new.delivered_at is not null)
           or (new.status = 'read' and old.status in ('queued', 'unknown', 'sent', 'delivered')
               and new.read_at is not null))))
  execute function public.message_delivery_log_guard_status();

-- As in 20261202100500, but for the stamps and updated_at of the set-wise update.
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
          metadata = m.metadata || u.metadata,
          -- A forward move's stamp, and updated_at: then the guard trigger has nothing to add and
          -- does not run (a move it would refuse still runs it, and it keeps the status).
          sent_at = case when u.status = 'sent' and m.status in ('queued', 'unknown')
                         then coalesce(m.sent_at, now()) else m.sent_at end,
          delivered_at = case when u.status = 'delivered' and m.status in ('queued', 'unknown', 'sent')
                              then coalesce(m.delivered_at, now()) else m.delivered_at end,
          read_at = case when u.status = 'read' and m.status in ('queued', 'unknown', 'sent', 'delivered')
                         then coalesce(m.read_at, now()) else m.read_at end,
          updated_at = now()
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


-- As in 20261202101700, but for the stamp and updated_at of the set-wise update.
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
-- Its statements name their rows by the ids in an array: planned for each call's values, the
-- update alone costs more to plan than to run (pgbench, one client: 2.1 ms for two outcomes
-- against 1.6 row by row; 1.25 with the plans kept).
set plan_cache_mode = force_generic_plan
as $$
declare
  v_o jsonb;
  v_i bigint;
  v_session uuid;
  v_channel text;
  -- The summaries that went out, per session: marked once each after the outcomes.
  v_marks jsonb := '{}'::jsonb;
  v_key text;
  v_mark jsonb;
  v_wa boolean;
  v_sms boolean;
  v_all_sent boolean;
  -- The set-wise path: each person's last active channel as it was, then as it becomes.
  v_lasts jsonb;
  v_changed jsonb := '{}'::jsonb;
  v_last text;
  v_wa_calls text[] := '{}'::text[];
  v_done integer := 0;
  v_missing uuid;
  v_ids uuid[];
  v_r record;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'p_outcomes must be a JSON array' using errcode = '22023';
  end if;

  select coalesce(bool_and(coalesce((e.value ->> 'sent')::boolean, false)), false)
         and count(*) = count(distinct e.value ->> 'delivery_id'),
         array_agg((e.value ->> 'delivery_id')::uuid)
  into v_all_sent, v_ids
  from jsonb_array_elements(p_outcomes) e;

  if v_all_sent then
    -- Lock order profile -> session -> delivery, as begin_post_call_notification and
    -- get_or_create_omnichannel_session take them (each set in key order).
    select coalesce(jsonb_object_agg(p.id::text, p.last_active_channel), '{}'::jsonb)
    into v_lasts
    from (
      select p.id, p.last_active_channel from public.profiles p
      -- By key (= any of an array): a join to the list's elements, which the planner takes for
      -- 100 rows, reads every row of a table of a few thousand.
      where p.id = any (array(
        select m.profile_id from public.message_delivery_log m where m.id = any (v_ids)))
      order by p.id
      for update
    ) p;
    perform 1 from (
      select s.id from public.omnichannel_sessions s
      where s.id = any (array(
        select m.session_id from public.message_delivery_log m where m.id = any (v_ids)))
      order by s.id
      for update
    ) s;

    for v_r in
      with o as (
        select (e.value ->> 'delivery_id')::uuid as id, e.ordinality as i, e.value as v
        from jsonb_array_elements(p_outcomes) with ordinality e
      ),
      u as (
        update public.message_delivery_log m
        set status = 'sent',
            provider = coalesce(o.v ->> 'provider', m.provider),
            provider_message_id = coalesce(o.v ->> 'provider_message_id', m.provider_message_id),
            body = coalesce(o.v ->> 'body', m.body),
            message_type = coalesce(o.v ->> 'message_type', m.message_type),
            metadata = m.metadata || coalesce(nullif(o.v -> 'metadata', 'null'::jsonb), '{}'::jsonb),
            sender_key = coalesce(o.v ->> 'sender_key', m.sender_key),
            error_code = null,
            error_class = null,
            error_message = null,
            next_attempt_at = null,
            leased_until = null,
            -- The stamp of a forward move, and updated_at: the guard trigger then does not run.
            sent_at = case when m.status in ('queued', 'unknown') then coalesce(m.sent_at, now())
                           else m.sent_at end,
            updated_at = now()
        from o
        where m.id = any (v_ids) and m.id = o.id
        returning o.i, m.id, m.status, m.attempts, m.next_attempt_at, m.session_id, m.profile_id,
                  m.channel, m.purpose, m.call_id,
                  -- The call's WhatsApp message had gone out before this statement.
                  case when m.channel = 'sms' and m.call_id is not null then exists (
                    select 1 from public.message_delivery_log w
                    where w.call_id = m.call_id and w.channel = 'whatsapp'
                      and w.status in ('sent', 'delivered', 'read'))
                  else false end as wa_sent
      )
      select * from u order by u.i
    loop
      v_done := v_done + 1;
      ordinal := v_r.i::integer;
      delivery_id := v_r.id;
      status := v_r.status;
      attempts := v_r.attempts;
      next_attempt_at := v_r.next_attempt_at;
      fallback_id := null;
      if v_r.purpose = 'post_call_summary' and v_r.session_id is not null then
        v_marks := jsonb_set(v_marks, array[v_r.session_id::text],
                             coalesce(v_marks -> v_r.session_id::text, '{}'::jsonb)
                               || jsonb_build_object(v_r.channel, true));
      end if;
      -- WhatsApp is the richer channel: once it carried a call's summary, it stays the last
      -- active one (a WhatsApp row earlier in this list counts as it would row by row).
      if v_r.profile_id is not null then
        if v_changed ? v_r.profile_id::text then
          v_last := v_changed ->> v_r.profile_id::text;
        else
          v_last := v_lasts ->> v_r.profile_id::text;
        end if;
        v_channel := case
          when v_r.channel = 'sms' and v_last = 'whatsapp' and v_r.call_id is not null
               and (v_r.wa_sent or v_r.call_id = any (v_wa_calls))
            then 'whatsapp'
          else v_r.channel end;
        if v_channel is distinct from v_last then
          v_changed := jsonb_set(v_changed, array[v_r.profile_id::text], to_jsonb(v_channel));
        end if;
      end if;
      if v_r.channel = 'whatsapp' and v_r.call_id is not null
         and v_r.status in ('sent', 'delivered', 'read') then
        v_wa_calls := v_wa_calls || v_r.call_id;
      end if;
      return next;
    end loop;

    if v_done < jsonb_array_length(p_outcomes) then
      foreach v_missing in array v_ids loop
        exit when not exists (select 1 from public.message_delivery_log m where m.id = v_missing);
      end loop;
      raise exception 'delivery % not found', v_missing using errcode = 'P0002';
    end if;

    -- Only the people whose channel changed, each by its key (locked above).
    if v_changed <> '{}'::jsonb then
      update public.profiles p set last_active_channel = v_changed ->> p.id::text
      where p.id = any (array(select k::uuid from jsonb_object_keys(v_changed) k))
        and p.last_active_channel is distinct from v_changed ->> p.id::text;
    end if;
  else
    for v_o, v_i in select e.value, e.ordinality from jsonb_array_elements(p_outcomes) with ordinality e loop
      ordinal := v_i::integer;
      select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id,
             r.summary_session_id, r.summary_channel
      into delivery_id, status, attempts, next_attempt_at, fallback_id, v_session, v_channel
      from public.record_outbound_outcome_row(
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
        v_o ->> 'sender_key',
        false
      ) r;
      if v_session is not null then
        v_marks := jsonb_set(v_marks, array[v_session::text],
                             coalesce(v_marks -> v_session::text, '{}'::jsonb)
                               || jsonb_build_object(v_channel, true));
      end if;
      return next;
    end loop;
  end if;

  -- Each session's row is already locked by its outcomes above; updated by its key.
  if v_marks = '{}'::jsonb then
    return;
  end if;
  for v_key, v_mark in select e.key, e.value from jsonb_each(v_marks) e loop
    v_wa := coalesce((v_mark ->> 'whatsapp')::boolean, false);
    v_sms := coalesce((v_mark ->> 'sms')::boolean, false);
    update public.omnichannel_sessions s
    set whatsapp_summary_sent = s.whatsapp_summary_sent or v_wa,
        whatsapp_summary_sent_at = case when v_wa then now() else s.whatsapp_summary_sent_at end,
        sms_summary_sent = s.sms_summary_sent or v_sms,
        sms_summary_sent_at = case when v_sms then now() else s.sms_summary_sent_at end
    where s.id = v_key::uuid;
  end loop;
end;
$$;
