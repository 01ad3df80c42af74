-- A WhatsApp call that ended is recorded (call_summaries, metadata.whatsapp_call) before the
-- webhook answers; its post-call flow runs after. If the process died in between, the call has
-- no post-call delivery: dispatch finds it here and runs the flow (idempotent per call id).
create or replace function public.list_unnotified_calls(
  p_older_than_seconds integer default 120,
  p_max_age_seconds integer default 86400,
  p_limit integer default 20
)
returns table (call_id text, phone_number text)
language sql
stable
security invoker
set search_path = ''
as $$
  select cs.call_id, cs.phone_number
  from public.call_summaries cs
  where cs.metadata ? 'whatsapp_call'
    and upper(coalesce(cs.metadata -> 'whatsapp_call' ->> 'status', '')) <> 'FAILED'
    and cs.phone_number is not null
    and cs.created_at <= now() - make_interval(secs => p_older_than_seconds)
    and cs.created_at > now() - make_interval(secs => p_max_age_seconds)
    and not exists (
      select 1 from public.message_delivery_log m
      where m.call_id = cs.call_id and m.purpose = 'post_call_summary'
    )
  order by cs.created_at
  limit p_limit
$$;

revoke execute on function public.list_unnotified_calls(integer, integer, integer) from public, anon, authenticated;
grant execute on function public.list_unnotified_calls(integer, integer, integer) to service_role;
