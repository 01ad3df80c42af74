-- begin_post_call_notification_paced as 20261201100000 left it, with its tokens' starting value
-- typed jsonb: `supabase db lint` (plpgsql_check) warned that the text literal was cast on every
-- call, the last warning it gave. With none left, scripts/ci-db-lint.sh now fails on any
-- warning, so a new one stops CI. Nothing else changes.

create or replace function public.begin_post_call_notification_paced(
  p_call_id text,
  p_phone_number text,
  p_summary text default null,
  p_correlation_id text default null,
  p_lease_seconds integer default 120,
  p_channels text[] default array['whatsapp', 'sms'],
  p_tokens jsonb default '[]'
)
returns table (
  session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text,
  delivery_id uuid, status text, provider_message_id text, error_code text, error_class text,
  error_message text, attempt integer, to_send boolean,
  email text, sender_key text, granted integer, wait_ms integer
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_claims jsonb;
  v_email text;
  v_taken jsonb := '{}'::jsonb;
  v_req record;
  v_granted integer;
  v_wait integer;
begin
  select coalesce(jsonb_agg(to_jsonb(b)), '[]'::jsonb) into v_claims
  from public.begin_post_call_notification(p_call_id, p_phone_number, p_summary,
                                           p_correlation_id, p_lease_seconds, p_channels) b;
  v_email := public.profile_identity((v_claims -> 0 ->> 'profile_id')::uuid, 'email');

  for v_req in
    select t.channel, t.sender_key, t.wanted, t.rate, coalesce(t.window_only, false) as window_only
    from jsonb_to_recordset(coalesce(p_tokens, '[]'::jsonb))
      as t(channel text, sender_key text, wanted integer, rate double precision, window_only boolean)
    where t.sender_key is not null and coalesce(t.wanted, 0) > 0
    order by t.sender_key
  loop
    continue when not exists (
      select 1 from jsonb_array_elements(v_claims) c
      where c ->> 'channel' = v_req.channel and (c ->> 'to_send')::boolean
        and c ->> 'status' = 'queued'
        and (not v_req.window_only or (c ->> 'whatsapp_window_open')::boolean));
    select t.granted, t.wait_ms into v_granted, v_wait
    from public.take_send_tokens(v_req.sender_key, v_req.wanted, coalesce(v_req.rate, 80)) t;
    v_taken := v_taken || jsonb_build_object(v_req.channel, jsonb_build_object(
      'sender_key', v_req.sender_key, 'granted', v_granted, 'wait_ms', v_wait));
  end loop;

  return query
  select c.session_id, c.profile_id, c.summary, c.whatsapp_window_open, c.channel,
         c.delivery_id, c.status, c.provider_message_id, c.error_code, c.error_class,
         c.error_message, c.attempt, c.to_send, v_email,
         v_taken -> c.channel ->> 'sender_key',
         (v_taken -> c.channel ->> 'granted')::integer,
         (v_taken -> c.channel ->> 'wait_ms')::integer
  from jsonb_to_recordset(v_claims) as c(
    session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text,
    delivery_id uuid, status text, provider_message_id text, error_code text, error_class text,
    error_message text, attempt integer, to_send boolean);
end;
$$;
