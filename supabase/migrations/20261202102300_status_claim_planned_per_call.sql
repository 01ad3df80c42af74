-- The status worker's claim is planned on every call. process_status_inbox ran its claim (the
-- owed rows, in key order, skip-locked) from the plan PL/pgSQL cached in the connection: after
-- five calls on an empty inbox, a generic plan that reads the inbox whole and sorts it, and that
-- plan stayed while the inbox filled, until an ANALYZE of the inbox happened to invalidate it. The
-- webhook benchmark counted 202 whole reads of status_inbox (11.2 million rows) in one run, and
-- in that phase the worker applied a fifth of the statuses while they arrived, where it applies
-- three fifths in the others. `auto_explain` showed the plan: Sort, then Seq Scan on
-- status_inbox, estimated at one row. The claim is now run with EXECUTE, planned for the inbox
-- as it is. (The rest of the function is unchanged, and keeps its cached plans: a session-wide
-- plan_cache_mode would also replan every statement of the statuses' writes and their triggers.)

create or replace function public.process_status_inbox(p_limit integer DEFAULT 500)
 RETURNS TABLE(inbox_id bigint, payload jsonb, matched boolean, delivery_id uuid, previous_status text, current_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids bigint[];
  v_batch jsonb;
  v_out jsonb;
  v_one jsonb;
begin
  -- Planned on every call (EXECUTE), never from a plan cached in this connection: the worker
  -- polls an empty inbox for as long as no status comes, and the plan it settled on then (read
  -- the inbox whole and sort it, the cheapest way through no rows) was kept once the inbox held
  -- hundreds of thousands (the benchmark counted 202 such reads of 11.2 million rows in one run).
  -- Planned for the inbox as it is, the claim takes the owed rows in key order from
  -- status_inbox_owed_idx.
  execute
    'select array_agg(q.id order by q.provider_message_id, q.id),
            jsonb_agg(q.payload order by q.provider_message_id, q.id)
     from (
       select s.id, s.provider_message_id, s.payload from public.status_inbox s
       where s.processed_at is null and s.attempts < 5
       order by s.id
       limit $1
       for update skip locked
     ) q'
  into v_ids, v_batch
  using greatest(p_limit, 1);
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
$function$;
