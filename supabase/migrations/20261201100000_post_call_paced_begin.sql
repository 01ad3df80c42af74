-- post-call in 2 round trips: begin_post_call_notification, the pacing tokens of the channels it
-- hands out to send, and the person's email address, in one statement. The caller then sends and
-- records both outcomes in one call (record_outbound_outcomes): nothing else between.
--
-- p_tokens: [{channel, sender_key, wanted, rate, window_only}] — for each channel the isolate
-- holds no leased token for, how many to lease from that sender's bucket (public.take_send_tokens).
-- Tokens are taken only for a channel whose row this call hands out to send (to_send, queued),
-- and, with window_only, only inside the WhatsApp 24-hour window (no template configured: outside
-- it nothing goes). Taken last and in key order, as take_send_tokens_each does, so the senders'
-- rows are locked for the shortest time and always in the same order.

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
  v_taken jsonb := '{}';
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

revoke execute on function public.begin_post_call_notification_paced(text, text, text, text, integer, text[], jsonb)
  from public, anon, authenticated;
grant execute on function public.begin_post_call_notification_paced(text, text, text, text, integer, text[], jsonb)
  to service_role;
