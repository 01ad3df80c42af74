-- Pacing tokens leased in bulk: each isolate takes several tokens from a sender's bucket at once
-- and spends them over the next ~100 ms, instead of one update of the sender's row per send
-- (every isolate's sends serialized on those rows). public.take_send_token_each takes one token
-- per key; this takes p_wanted[i] from p_sender_keys[i] (as many as the bucket holds, up to that),
-- in key order so two callers lock the rows in the same order.

create or replace function public.take_send_tokens_each(
  p_sender_keys text[],
  p_wanted integer[],
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
    from public.take_send_tokens(p_sender_keys[v_i], greatest(1, coalesce(p_wanted[v_i], 1)),
                                 p_default_rates[v_i]) t;
    return next;
  end loop;
end;
$$;

revoke execute on function public.take_send_tokens_each(text[], integer[], double precision[])
  from public, anon, authenticated;
grant execute on function public.take_send_tokens_each(text[], integer[], double precision[])
  to service_role;
