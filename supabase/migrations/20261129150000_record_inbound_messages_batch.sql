-- Inbound messages of concurrent webhook requests, recorded in one statement and one commit.
--
-- A webhook answers 2xx only after its message is committed. One transaction per request costs
-- one WAL flush per request; the webhook functions now gather the messages of the requests that
-- arrive in the same event-loop turn and record them here together, so the flush is shared.
-- Each element is recorded exactly as public.record_inbound_message records one (idempotent on
-- the provider's message id; the same id twice in a batch is recorded once, the second copy
-- answers is_new = false). Elements are taken in sender order so two batches touching the same
-- people lock their profile and session rows in the same order. One failing element fails the
-- batch; the caller then records the batch's messages one by one, so only that request fails.
--
-- p_messages: [{channel, sender, provider, provider_message_id, message_type, body, metadata,
--   correlation_id, whatsapp_jid, needs_reply, display_name}, ...]
-- Returns one row per element, with its 1-based position in p_messages.

create or replace function public.record_inbound_messages(p_messages jsonb)
returns table (ordinal bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_m jsonb;
  v_ordinal bigint;
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  for v_m, v_ordinal in
    select e.m, e.n from jsonb_array_elements(p_messages) with ordinality as e(m, n)
    order by e.m ->> 'sender', e.n
  loop
    return query
      select v_ordinal, r.delivery_id, r.session_id, r.profile_id, r.is_new, r.allows_sms
      from public.record_inbound_message(
        v_m ->> 'channel', v_m ->> 'sender', v_m ->> 'provider', v_m ->> 'provider_message_id',
        coalesce(v_m ->> 'message_type', 'text'), v_m ->> 'body',
        coalesce(v_m -> 'metadata', '{}'::jsonb), v_m ->> 'correlation_id',
        v_m ->> 'whatsapp_jid', coalesce((v_m ->> 'needs_reply')::boolean, true),
        v_m ->> 'display_name') as r;
  end loop;
end;
$$;

revoke execute on function public.record_inbound_messages(jsonb) from public, anon, authenticated;
grant execute on function public.record_inbound_messages(jsonb) to service_role;
