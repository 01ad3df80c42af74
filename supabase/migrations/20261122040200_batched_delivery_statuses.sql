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
